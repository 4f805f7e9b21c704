//! The certificate typeface, Titillium Web: measuring text for layout, and
//! cutting each document's subset so a PDF embeds only the glyphs it uses.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::subset::{CmapTarget, SubsetProfile, subset};
use printpdf::ParsedFont;

/// The weights a certificate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Weight {
    /// Running text.
    Regular,
    /// Labels and the table header.
    SemiBold,
    /// The comune's name and the certificate's title.
    Bold,
}

impl Weight {
    /// Every weight.
    pub const ALL: [Self; 3] = [Self::Regular, Self::SemiBold, Self::Bold];

    fn bytes(self) -> &'static [u8] {
        match self {
            Self::Regular => include_bytes!("../fonts/TitilliumWeb-Regular.ttf"),
            Self::SemiBold => include_bytes!("../fonts/TitilliumWeb-SemiBold.ttf"),
            Self::Bold => include_bytes!("../fonts/TitilliumWeb-Bold.ttf"),
        }
    }
}

/// Why a font could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FontError {
    /// The font file could not be parsed.
    #[error("the font {0:?} could not be parsed")]
    Unparsable(Weight),
    /// Subsetting failed.
    #[error("the font {0:?} could not be subset: {1}")]
    Subset(Weight, String),
}

/// One weight of the typeface, parsed once.
#[derive(Debug)]
pub struct Face {
    weight: Weight,
    parsed: ParsedFont,
}

/// The faces, parsed on first use.
pub fn face(weight: Weight) -> Result<&'static Face, FontError> {
    static FACES: OnceLock<Vec<Result<Face, FontError>>> = OnceLock::new();
    let faces = FACES.get_or_init(|| {
        Weight::ALL
            .iter()
            .map(|&weight| {
                ParsedFont::from_bytes(weight.bytes(), 0, &mut Vec::new())
                    .map(|parsed| Face { weight, parsed })
                    .ok_or(FontError::Unparsable(weight))
            })
            .collect()
    });
    let index = Weight::ALL.iter().position(|&w| w == weight).unwrap_or(0);
    faces[index].as_ref().map_err(Clone::clone)
}

impl Face {
    /// Width of `text` at `size` points, in points. Characters the font
    /// lacks count as a space-wide gap (they are replaced when drawn).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text.chars().map(|c| u32::from(self.advance(c))).sum();
        units as f32 * size / f32::from(self.parsed.units_per_em.max(1))
    }

    /// Whether the font has a glyph for `c`.
    pub fn covers(&self, c: char) -> bool {
        self.parsed.codepoint_to_glyph.contains_key(&u32::from(c))
    }

    fn advance(&self, c: char) -> u16 {
        let glyph = self
            .parsed
            .codepoint_to_glyph
            .get(&u32::from(c))
            .or_else(|| self.parsed.codepoint_to_glyph.get(&u32::from(' ')));
        glyph
            .and_then(|g| self.parsed.glyph_widths.get(g))
            .copied()
            .unwrap_or(0)
    }

    /// A font holding only the glyphs for `chars` (and `.notdef`), with a
    /// Unicode cmap, parsed for embedding.
    pub fn subset(&self, chars: &BTreeSet<char>) -> Result<ParsedFont, FontError> {
        let error = |e: String| FontError::Subset(self.weight, e);
        let mut glyphs: Vec<u16> = vec![0];
        glyphs.extend(
            chars
                .iter()
                .filter_map(|c| self.parsed.codepoint_to_glyph.get(&u32::from(*c))),
        );
        glyphs[1..].sort_unstable();
        glyphs.dedup();
        let data = ReadScope::new(self.weight.bytes())
            .read::<FontData<'_>>()
            .map_err(|e| error(e.to_string()))?;
        let provider = data.table_provider(0).map_err(|e| error(e.to_string()))?;
        let bytes = subset(
            &provider,
            &glyphs,
            &SubsetProfile::Minimal,
            CmapTarget::Unicode,
        )
        .map_err(|e| error(e.to_string()))?;
        ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())
            .ok_or_else(|| error("the subset could not be parsed".into()))
    }
}

/// Replaces characters the typeface lacks with close equivalents, so no
/// character of a name or an address disappears from the page.
pub fn printable(text: &str) -> String {
    let Ok(regular) = face(Weight::Regular) else {
        return text.to_owned();
    };
    text.chars()
        .map(|c| match c {
            c if regular.covers(c) => c,
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201C}' | '\u{201D}' => '"',
            '\u{2013}' | '\u{2014}' => '-',
            '\u{00A0}' => ' ',
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_face_parses_and_covers_italian_letters() {
        for weight in Weight::ALL {
            let face = face(weight).expect("parses");
            for c in "àèéìòùÀÈÉÌÒÙ«»’—".chars() {
                assert!(face.covers(c), "{weight:?} lacks {c}");
            }
        }
    }

    #[test]
    fn wider_text_measures_wider() {
        let regular = face(Weight::Regular).expect("parses");
        let narrow = regular.width("iiii", 11.0);
        let wide = regular.width("MMMM", 11.0);
        assert!(narrow > 0.0 && wide > narrow * 2.0, "{narrow} {wide}");
    }

    #[test]
    fn a_subset_keeps_the_glyphs_asked_for_and_is_smaller() {
        let regular = face(Weight::Regular).expect("parses");
        let chars: BTreeSet<char> = "Perché è così".chars().collect();
        let subset = regular.subset(&chars).expect("subsets");
        for c in &chars {
            assert!(
                subset.codepoint_to_glyph.contains_key(&u32::from(*c)),
                "{c} lost"
            );
        }
        let size = subset.original_bytes.len();
        assert!(
            size < Weight::Regular.bytes().len() / 3,
            "subset is {size} bytes"
        );
    }
}
