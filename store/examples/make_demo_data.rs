//! Generates the demo comune's data files, `people.csv` and `parcels.csv`,
//! in the importers' layouts (`docs/import.md`).
//!
//! ```sh
//! cargo run -p store --example make_demo_data -- \
//!     path/to/ANPR_archivio_comuni.csv store/demo
//! ```
//!
//! The output depends only on the archive and the seed below: running it
//! again gives the same files. Everyone in them is fictional; birthplaces
//! are real comuni, active and instituted before 1920 (so the birth dates
//! here fit their codes), picked from ANPR's archive of comuni, or a few
//! foreign states. At the end it prints which person stands for which
//! case the issuance controls must handle.

use std::collections::HashSet;
use std::error::Error;
use std::path::Path;

use store::cf;
use store::model::Sex;
use time::macros::date;
use time::{Date, Duration, Month};

const SEED: u64 = 0x5161_110d_e302_6001;
/// The day the data describe; every date is before it.
const REFERENCE: Date = date!(2026 - 10 - 31);
const HOME: (&str, &str) = ("BORGO SIGILLO (XX)", "M999");
const POSTCODE: &str = "99901";

/// Foreign states with their codes for the codice fiscale (the Agenzia
/// delle Entrate's codes for foreign states, `Z` + three digits), the
/// citizenship adjective, and a street and city for (fictional) addresses
/// abroad.
const STATES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "FRANCIA",
        "Z110",
        "FRANCESE",
        "RUE DES LILAS",
        "75011 PARIS",
    ),
    (
        "GERMANIA",
        "Z112",
        "TEDESCA",
        "LINDENSTRASSE",
        "80331 MÜNCHEN",
    ),
    (
        "REGNO UNITO",
        "Z114",
        "BRITANNICA",
        "ELM ROAD",
        "LONDON E1 6AN",
    ),
    (
        "ROMANIA",
        "Z129",
        "ROMENA",
        "STRADA VICTORIEI",
        "010061 BUCUREȘTI",
    ),
    (
        "ARGENTINA",
        "Z600",
        "ARGENTINA",
        "AVENIDA DE MAYO",
        "C1084 BUENOS AIRES",
    ),
    (
        "STATI UNITI D'AMERICA",
        "Z404",
        "STATUNITENSE",
        "MAPLE AVENUE",
        "NEW YORK NY 10001",
    ),
    ("SVIZZERA", "Z133", "SVIZZERA", "SEESTRASSE", "8002 ZÜRICH"),
];

const SURNAMES: &[&str] = &[
    "ROSSI",
    "RUSSO",
    "FERRARI",
    "ESPOSITO",
    "BIANCHI",
    "ROMANO",
    "COLOMBO",
    "RICCI",
    "MARINO",
    "GRECO",
    "BRUNO",
    "GALLO",
    "CONTI",
    "DE LUCA",
    "MANCINI",
    "COSTA",
    "GIORDANO",
    "RIZZO",
    "LOMBARDI",
    "MORETTI",
    "BARBIERI",
    "FONTANA",
    "SANTORO",
    "MARIANI",
    "RINALDI",
    "CARUSO",
    "FERRARA",
    "GALLI",
    "MARTINI",
    "LEONE",
    "LONGO",
    "GENTILE",
    "MARTINELLI",
    "VITALE",
    "SERRA",
    "COPPOLA",
    "DE SANTIS",
    "D'ANGELO",
    "MARCHETTI",
    "PARISI",
    "VILLA",
    "CONTE",
    "FERRARO",
    "FABBRI",
    "BIANCO",
    "MARINI",
    "GRASSO",
    "VALENTINI",
    "MESSINA",
    "SALA",
    "DE ANGELIS",
    "GATTI",
    "PELLEGRINI",
    "PALUMBO",
    "SANNA",
    "FARINA",
    "RIVA",
    "MONTI",
    "BO",
    "FO",
    "AIELLO",
];
const MALE: &[&str] = &[
    "MARIO",
    "GIUSEPPE",
    "GIOVANNI",
    "ANTONIO",
    "LUCA",
    "MARCO",
    "FRANCESCO",
    "ALESSANDRO",
    "ANDREA",
    "MATTEO",
    "LORENZO",
    "GIANFRANCO",
    "PAOLO",
    "STEFANO",
    "ROBERTO",
    "NICOLÒ",
    "DAVIDE",
    "SIMONE",
    "FEDERICO",
    "RICCARDO",
    "TOMMASO",
    "LEONARDO",
    "GABRIELE",
    "EDOARDO",
    "UGO",
    "PIER LUIGI",
    "GIAN MARCO",
    "SALVATORE",
    "VINCENZO",
    "CARLO",
    "FILIPPO",
    "EMANUELE",
    "PIETRO",
    "ENRICO",
    "CLAUDIO",
];
const FEMALE: &[&str] = &[
    "MARIA",
    "ANNA",
    "GIULIA",
    "FRANCESCA",
    "CHIARA",
    "SARA",
    "LAURA",
    "ELENA",
    "SOFIA",
    "AURORA",
    "GIORGIA",
    "ALICE",
    "MARTINA",
    "ELISA",
    "SILVIA",
    "PAOLA",
    "ROBERTA",
    "VALENTINA",
    "FEDERICA",
    "ILARIA",
    "MARIA GRAZIA",
    "ANNA MARIA",
    "LUCIA",
    "ROSA",
    "TERESA",
    "CATERINA",
    "BEATRICE",
    "NOEMI",
    "GRETA",
    "IDA",
    "EVA",
];
/// Surnames and names for people born abroad who are not Italian citizens,
/// by state (same order as `STATES`).
const FOREIGN: &[(&[&str], &[&str], &[&str])] = &[
    (
        &["DUBOIS", "MOREAU", "LEFÈVRE"],
        &["JEAN", "LUC"],
        &["CLAIRE", "AMÉLIE"],
    ),
    (
        &["MÜLLER", "SCHMIDT", "WEBER"],
        &["KLAUS", "JÜRGEN"],
        &["ANKE", "SABINE"],
    ),
    (
        &["SMITH", "JONES", "TAYLOR"],
        &["JOHN", "DAVID"],
        &["MARY", "EMMA"],
    ),
    (
        &["POPESCU", "IONESCU", "POPA"],
        &["ANDREI", "MIHAI"],
        &["IOANA", "ELENA"],
    ),
    (
        &["GARCÍA", "FERNÁNDEZ", "LÓPEZ"],
        &["PABLO", "DIEGO"],
        &["LUCÍA", "VALENTINA"],
    ),
    (
        &["JOHNSON", "BROWN", "MILLER"],
        &["MICHAEL", "JAMES"],
        &["JENNIFER", "SARAH"],
    ),
    (
        &["MEIER", "KELLER", "HUBER"],
        &["URS", "BEAT"],
        &["REGULA", "CORINNE"],
    ),
];
const STREETS: &[&str] = &[
    "VIA ROMA",
    "VIA GIUSEPPE GARIBALDI",
    "PIAZZA DEL MUNICIPIO",
    "VIA DEI MULINI",
    "VICOLO DEL POZZO",
    "CORSO ITALIA",
    "VIA DELLE VIGNE",
    "VIA DEL SIGILLO",
    "STRADA VICINALE DEI CASTAGNI",
    "VIA SAN ROCCO",
];

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(archive), Some(out_dir)) = (args.next(), args.next()) else {
        return Err("usage: make_demo_data <ANPR_archivio_comuni.csv> <output directory>".into());
    };
    let places = read_places(Path::new(&archive))?;
    let mut demo = Demo::new(places);
    demo.build();
    let people_path = Path::new(&out_dir).join("people.csv");
    demo.write_people(&people_path)?;
    let parcels = parcels(&mut demo.rng);
    write_parcels(&Path::new(&out_dir).join("parcels.csv"), &parcels)?;
    demo.report(parcels.len());
    Ok(())
}

/// splitmix64: small, fast, and the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// A date between `from` and `to` inclusive.
    fn date(&mut self, from: Date, to: Date) -> Date {
        let days = (to - from).whole_days().max(0) as usize;
        from + Duration::days(self.below(days + 1) as i64)
    }
}

fn ymd(year: i32, month: u8, day: u8) -> Date {
    Month::try_from(month)
        .ok()
        .and_then(|month| Date::from_calendar_date(year, month, day).ok())
        .expect("the generator only writes valid literal dates")
}

/// A birthplace: as printed, and its code.
#[derive(Clone)]
struct Place {
    printed: String,
    code: String,
}

/// Active comuni instituted before 1920, in ISTAT code order.
fn read_places(archive: &Path) -> Result<Vec<Place>, Box<dyn Error>> {
    let mut reader = csv::Reader::from_path(archive)?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .ok_or_else(|| format!("the archive has no column {name}"))
    };
    let (status, since, istat, code, name, province) = (
        column("STATO")?,
        column("DATAISTITUZIONE")?,
        column("CODISTAT")?,
        column("CODCATASTALE")?,
        column("DENOMINAZIONE_IT")?,
        column("SIGLAPROVINCIA")?,
    );
    let mut places = Vec::new();
    for record in reader.records() {
        let record = record?;
        if &record[status] == "A" && &record[since] < "1920-01-01" {
            places.push((
                record[istat].to_owned(),
                Place {
                    printed: format!("{} ({})", &record[name], &record[province]),
                    code: record[code].to_owned(),
                },
            ));
        }
    }
    places.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(places.into_iter().map(|(_, place)| place).collect())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Reg {
    Resident,
    Aire,
    Cancelled,
}

#[derive(Clone)]
struct Union {
    kind: &'static str,
    partner: String,
    date: Date,
    place: String,
    ended: Option<Date>,
}

/// A person as a row of `people.csv`.
#[derive(Clone)]
struct Person {
    id: i64,
    fiscal_code: String,
    surname: String,
    names: String,
    sex: Sex,
    birth: Date,
    place: Place,
    citizenship: String,
    civil: &'static str,
    reg: Reg,
    aire: Option<(String, String, Date)>,
    cancelled: Option<(Date, String)>,
    family: Option<i64>,
    convivenza: Option<(i64, String)>,
    relationship: Option<u16>,
    address: Option<[String; 4]>,
    certifiability: u8,
    death: Option<Date>,
    union: Option<Union>,
    procedure: Option<(String, Date)>,
}

impl Person {
    fn full_name(&self) -> String {
        format!("{} {}", self.surname, self.names)
    }
}

struct Demo {
    rng: Rng,
    places: Vec<Place>,
    people: Vec<Person>,
    codes: HashSet<String>,
    next_family: i64,
    street_numbers: Vec<u32>,
    /// Which person (by index) stands for which case, for the report.
    cases: Vec<(&'static str, usize)>,
    shapes: Vec<(&'static str, usize, usize)>,
}

impl Demo {
    fn new(places: Vec<Place>) -> Self {
        Self {
            rng: Rng(SEED),
            places,
            people: Vec::new(),
            codes: HashSet::new(),
            next_family: 1,
            street_numbers: vec![1; STREETS.len()],
            cases: Vec::new(),
            shapes: Vec::new(),
        }
    }

    fn build(&mut self) {
        self.shape("singles", 26, |demo| {
            demo.single(None);
        });
        self.shape("married couples without children", 14, |demo| {
            demo.couple("matrimonio", 0);
        });
        self.shape("married couples with children", 24, |demo| {
            let children = 1 + demo.rng.below(3);
            demo.couple("matrimonio", children);
        });
        self.shape("single parents with children", 4, |demo| {
            demo.single_parent();
        });
        self.shape("civil unions (relationship 28)", 3, |demo| {
            demo.couple("unione-civile", 0);
        });
        self.shape("de facto cohabitants (relationship 23)", 4, |demo| {
            let children = demo.rng.below(2);
            demo.couple("convivenza", children);
        });
        self.shape("extended families (parent 6, sibling 9)", 2, |demo| {
            demo.extended();
        });
        self.shape("families abroad (AIRE)", 4, |demo| {
            demo.aire_family(true);
        });
        self.shape("single people abroad (AIRE)", 3, |demo| {
            demo.aire_family(false);
        });
        self.convivenza(
            1,
            "CASA DI RIPOSO SAN GIUSEPPE",
            8,
            (ymd(1925, 1, 1), ymd(1945, 12, 31)),
            None,
        );
        self.convivenza(
            2,
            "MONASTERO DELLE CLARISSE",
            5,
            (ymd(1940, 1, 1), ymd(1990, 12, 31)),
            Some(Sex::F),
        );
        self.special_cases();
        self.note_examples();
        self.assign_fiscal_codes();
    }

    /// Notes one person of each ordinary shape the issuance tests need.
    fn note_examples(&mut self) {
        let find = |demo: &Self, test: &dyn Fn(&Person) -> bool| demo.people.iter().position(test);
        let examples: [(&'static str, Option<usize>); 5] = [
            (
                "an AIRE resident abroad",
                find(self, &|p| p.reg == Reg::Aire),
            ),
            (
                "a convivenza member (relationship 25)",
                find(self, &|p| p.relationship == Some(25)),
            ),
            (
                "a civil partner (relationship 28)",
                find(self, &|p| p.relationship == Some(28)),
            ),
            (
                "a cohabitant (relationship 23)",
                find(self, &|p| p.relationship == Some(23)),
            ),
            (
                "a spouse (relationship 2) in a family with children",
                find(self, &|p| {
                    p.relationship == Some(2)
                        && self
                            .people
                            .iter()
                            .any(|c| c.family == p.family && c.relationship == Some(3))
                }),
            ),
        ];
        for (what, index) in examples {
            if let Some(index) = index {
                self.case(what, index);
            }
        }
    }

    /// Builds `count` families with `make`, counting the people made.
    fn shape(&mut self, name: &'static str, count: usize, mut make: impl FnMut(&mut Self)) {
        let before = self.people.len();
        for _ in 0..count {
            make(self);
        }
        self.shapes.push((name, count, self.people.len() - before));
    }

    fn new_family(&mut self) -> i64 {
        let id = self.next_family;
        self.next_family += 1;
        id
    }

    fn new_address(&mut self) -> [String; 4] {
        let street = self.rng.below(STREETS.len());
        let number = self.street_numbers[street];
        self.street_numbers[street] += 1 + self.rng.below(4) as u32;
        let unit = match self.rng.below(6) {
            0 => format!("INT. {}", 1 + self.rng.below(12)),
            1 => format!("SCALA B INT. {}", 1 + self.rng.below(8)),
            _ => String::new(),
        };
        let locality = if self.rng.chance(15) {
            "SIGILLO ALTO"
        } else {
            "BORGO SIGILLO"
        };
        [
            STREETS[street].to_owned(),
            number.to_string(),
            unit,
            locality.to_owned(),
        ]
    }

    /// A birthplace: mostly a comune from the archive, sometimes the demo
    /// comune itself, sometimes abroad (then `Some` state index).
    fn birthplace(&mut self) -> (Place, Option<usize>) {
        match self.rng.below(100) {
            0..=69 => (self.rng.pick(&self.places).clone(), None),
            70..=89 => (
                Place {
                    printed: HOME.0.to_owned(),
                    code: HOME.1.to_owned(),
                },
                None,
            ),
            _ => {
                let state = self.rng.below(STATES.len());
                (
                    Place {
                        printed: STATES[state].0.to_owned(),
                        code: STATES[state].1.to_owned(),
                    },
                    Some(state),
                )
            }
        }
    }

    /// A new resident person, single, fully certifiable, not yet placed.
    fn person(&mut self, sex: Sex, born: (Date, Date), surname: Option<&str>) -> Person {
        let (place, state) = self.birthplace();
        let birth = self.rng.date(born.0, born.1);
        // Half of those born abroad are foreign citizens with names from there.
        let foreign = state.filter(|_| surname.is_none() && self.rng.chance(50));
        let (surname, names, citizenship) = match foreign {
            Some(state) => {
                let (surnames, male, female) = FOREIGN[state];
                let names = match sex {
                    Sex::M => male,
                    Sex::F => female,
                };
                (
                    (*self.rng.pick(surnames)).to_owned(),
                    (*self.rng.pick(names)).to_owned(),
                    STATES[state].2.to_owned(),
                )
            }
            None => (
                surname.map_or_else(|| (*self.rng.pick(SURNAMES)).to_owned(), str::to_owned),
                (*self.rng.pick(match sex {
                    Sex::M => MALE,
                    Sex::F => FEMALE,
                }))
                .to_owned(),
                "ITALIANA".to_owned(),
            ),
        };
        Person {
            id: 0,
            fiscal_code: String::new(),
            surname,
            names,
            sex,
            birth,
            place,
            citizenship,
            civil: "celibe-nubile",
            reg: Reg::Resident,
            aire: None,
            cancelled: None,
            family: None,
            convivenza: None,
            relationship: None,
            address: None,
            certifiability: 2,
            death: None,
            union: None,
            procedure: None,
        }
    }

    fn sex(&mut self) -> Sex {
        if self.rng.chance(50) { Sex::M } else { Sex::F }
    }

    /// Adds a person, giving them the next id; returns their index.
    fn push(&mut self, mut person: Person) -> usize {
        person.id = self.people.len() as i64 + 1;
        self.people.push(person);
        self.people.len() - 1
    }

    /// A person alone in a family; returns their index.
    fn single(&mut self, address: Option<[String; 4]>) -> usize {
        let sex = self.sex();
        let mut person = self.person(sex, (ymd(1940, 1, 1), ymd(2004, 12, 31)), None);
        person.family = Some(self.new_family());
        person.relationship = Some(1);
        person.address = Some(address.unwrap_or_else(|| self.new_address()));
        // Some singles were married once.
        let adult_at = person.birth + Duration::days(365 * 22);
        if adult_at < ymd(2015, 1, 1) && self.rng.chance(35) {
            let civil = if self.rng.chance(50) {
                "divorziato"
            } else {
                "vedovo"
            };
            let partner_sex = match sex {
                Sex::M => Sex::F,
                Sex::F => Sex::M,
            };
            let partner = self.name_of(partner_sex);
            let married = self.rng.date(adult_at, ymd(2015, 1, 1));
            let ended = self
                .rng
                .date(married + Duration::days(400), ymd(2025, 12, 31));
            person.civil = civil;
            person.union = Some(Union {
                kind: "matrimonio",
                partner,
                date: married,
                place: HOME.0.to_owned(),
                ended: Some(ended),
            });
        }
        self.push(person)
    }

    /// A full name as a partner's record prints it.
    fn name_of(&mut self, sex: Sex) -> String {
        let names = match sex {
            Sex::M => MALE,
            Sex::F => FEMALE,
        };
        format!("{} {}", self.rng.pick(SURNAMES), self.rng.pick(names))
    }

    /// A couple (married, in civil union, or cohabiting) with `children`.
    fn couple(&mut self, kind: &'static str, children: usize) -> Vec<usize> {
        let family = self.new_family();
        let address = self.new_address();
        let (first_sex, second_sex) = match kind {
            "unione-civile" => {
                let sex = self.sex();
                (sex, sex)
            }
            _ => (Sex::M, Sex::F),
        };
        let mut head = self.person(first_sex, (ymd(1950, 1, 1), ymd(1996, 12, 31)), None);
        let partner_born = head.birth - Duration::days(365 * 3);
        let mut partner = self.person(
            second_sex,
            (partner_born, head.birth + Duration::days(365 * 4)),
            None,
        );
        // Heads are men in half of the different-sex couples.
        if kind != "unione-civile" && self.rng.chance(50) {
            std::mem::swap(&mut head, &mut partner);
        }
        let older = head.birth.max(partner.birth);
        let union_from = (older + Duration::days(365 * 21)).max(match kind {
            // Civil unions exist since L. 76/2016 (in force 5 June 2016).
            "unione-civile" | "convivenza" => ymd(2016, 6, 5),
            _ => ymd(1960, 1, 1),
        });
        let union_date = self.rng.date(
            union_from,
            (union_from + Duration::days(365 * 8)).min(REFERENCE - Duration::days(400)),
        );
        let (relationship, civil, union_kind) = match kind {
            "matrimonio" => (2, "coniugato", Some("matrimonio")),
            "unione-civile" => (28, "unito-civilmente", Some("unione-civile")),
            _ => (
                23,
                "celibe-nubile",
                self.rng.chance(50).then_some("contratto-convivenza"),
            ),
        };
        for (person, rel) in [(&mut head, 1), (&mut partner, relationship)] {
            person.family = Some(family);
            person.relationship = Some(rel);
            person.address = Some(address.clone());
            person.civil = civil;
        }
        if let Some(union_kind) = union_kind {
            let place = if union_kind == "contratto-convivenza" {
                "BORGO SIGILLO (XX) - UFFICIO ANAGRAFE".to_owned()
            } else {
                HOME.0.to_owned()
            };
            head.union = Some(Union {
                kind: union_kind,
                partner: partner.full_name(),
                date: union_date,
                place: place.clone(),
                ended: None,
            });
            partner.union = Some(Union {
                kind: union_kind,
                partner: head.full_name(),
                date: union_date,
                place,
                ended: None,
            });
        }
        let head_surname = match head.sex {
            Sex::M => head.surname.clone(),
            Sex::F => partner.surname.clone(),
        };
        // Children are born to the woman of the couple before she is 45.
        let mother_born = [&head, &partner]
            .into_iter()
            .find(|p| p.sex == Sex::F && kind != "unione-civile")
            .map(|p| p.birth);
        let mut indices = vec![self.push(head), self.push(partner)];
        let mut born_from = union_date + Duration::days(300);
        for _ in 0..children {
            let Some(mother_born) = mother_born else {
                break;
            };
            let born_to = (born_from + Duration::days(365 * 6))
                .min(REFERENCE - Duration::days(30))
                .min(mother_born + Duration::days(365 * 45));
            if born_from >= born_to {
                break;
            }
            let sex = self.sex();
            let mut child = self.person(sex, (born_from, born_to), Some(&head_surname));
            child.place = Place {
                printed: HOME.0.to_owned(),
                code: HOME.1.to_owned(),
            };
            child.family = Some(family);
            child.relationship = Some(3);
            child.address = Some(address.clone());
            born_from = child.birth + Duration::days(400);
            indices.push(self.push(child));
        }
        indices
    }

    fn single_parent(&mut self) {
        let family = self.new_family();
        let address = self.new_address();
        let sex = self.sex();
        let mut parent = self.person(sex, (ymd(1965, 1, 1), ymd(1992, 12, 31)), None);
        parent.family = Some(family);
        parent.relationship = Some(1);
        parent.address = Some(address.clone());
        parent.civil = "divorziato";
        let married = parent.birth + Duration::days(365 * 24);
        parent.union = Some(Union {
            kind: "matrimonio",
            partner: self.name_of(match sex {
                Sex::M => Sex::F,
                Sex::F => Sex::M,
            }),
            date: married,
            place: HOME.0.to_owned(),
            ended: Some(married + Duration::days(365 * 6)),
        });
        let surname = parent.surname.clone();
        self.push(parent);
        for n in 0..1 + self.rng.below(2) {
            let from = married + Duration::days(300 + 700 * n as i64);
            let sex = self.sex();
            let mut child = self.person(sex, (from, from + Duration::days(300)), Some(&surname));
            child.family = Some(family);
            child.relationship = Some(3);
            child.address = Some(address.clone());
            self.push(child);
        }
    }

    fn extended(&mut self) {
        let indices = self.couple("matrimonio", 1);
        let head = self.people[indices[0]].clone();
        let mut parent = self.person(
            Sex::F,
            (
                head.birth - Duration::days(365 * 35),
                head.birth - Duration::days(365 * 22),
            ),
            Some(&head.surname),
        );
        parent.family = head.family;
        parent.relationship = Some(6);
        parent.address = head.address.clone();
        parent.civil = "vedovo";
        self.push(parent);
        let mut sibling = self.person(
            Sex::M,
            (
                head.birth - Duration::days(365 * 4),
                head.birth + Duration::days(365 * 4),
            ),
            Some(&head.surname),
        );
        sibling.family = head.family;
        sibling.relationship = Some(9);
        sibling.address = head.address;
        self.push(sibling);
    }

    /// A family living abroad: a couple with up to two children, or one
    /// person.
    fn aire_family(&mut self, couple: bool) {
        let state = self.rng.below(STATES.len());
        let (country, code, _, street, city) = STATES[state];
        let address_abroad = format!("{street} {}, {city}", 1 + self.rng.below(90));
        let registered = self.rng.date(ymd(1995, 1, 1), ymd(2024, 12, 31));
        let indices = if couple {
            let children = self.rng.below(3);
            self.couple("matrimonio", children)
        } else {
            vec![self.single(None)]
        };
        for index in indices {
            let person = &mut self.people[index];
            if person.relationship == Some(3) {
                person.place = Place {
                    printed: country.to_owned(),
                    code: code.to_owned(),
                };
            }
            person.reg = Reg::Aire;
            person.address = None;
            person.citizenship = "ITALIANA".to_owned();
            let since = registered.max(person.birth);
            person.aire = Some((country.to_owned(), address_abroad.clone(), since));
        }
    }

    fn convivenza(
        &mut self,
        id: i64,
        name: &str,
        members: usize,
        born: (Date, Date),
        sex: Option<Sex>,
    ) {
        let address = self.new_address();
        let before = self.people.len();
        let responsible_sex = sex.unwrap_or_else(|| self.sex());
        let mut head = self.person(responsible_sex, (ymd(1960, 1, 1), ymd(1985, 12, 31)), None);
        head.convivenza = Some((id, name.to_owned()));
        head.relationship = Some(24);
        head.address = Some(address.clone());
        self.push(head);
        for _ in 0..members {
            let member_sex = sex.unwrap_or_else(|| self.sex());
            let mut member = self.person(member_sex, born, None);
            member.convivenza = Some((id, name.to_owned()));
            member.relationship = Some(25);
            member.address = Some(address.clone());
            if sex.is_none() && self.rng.chance(70) {
                member.civil = "vedovo";
            }
            self.push(member);
        }
        self.shapes
            .push(("convivenza members", 1, self.people.len() - before));
    }

    fn special_cases(&mut self) {
        let before = self.people.len();
        // Deceased: cancelled for death, and his widow's marriage ended then.
        let died = ymd(2025, 3, 14);
        let mut deceased = self.person(Sex::M, (ymd(1938, 1, 1), ymd(1945, 12, 31)), None);
        deceased.reg = Reg::Cancelled;
        deceased.cancelled = Some((died, "DECESSO".to_owned()));
        deceased.death = Some(died);
        deceased.civil = "coniugato";
        let widow_index = self.single(None);
        let married = deceased.birth + Duration::days(365 * 27);
        {
            let widow = &mut self.people[widow_index];
            widow.sex = Sex::F;
            widow.names = "ADELE".to_owned();
            widow.birth = deceased.birth + Duration::days(700);
            widow.civil = "vedovo";
            widow.union = Some(Union {
                kind: "matrimonio",
                partner: deceased.full_name(),
                date: married,
                place: HOME.0.to_owned(),
                ended: Some(died),
            });
        }
        deceased.union = Some(Union {
            kind: "matrimonio",
            partner: self.people[widow_index].full_name(),
            date: married,
            place: HOME.0.to_owned(),
            ended: Some(died),
        });
        let deceased_index = self.push(deceased);
        self.case(
            "deceased (data_decesso, cancelled for DECESSO)",
            deceased_index,
        );
        self.case("widow of the deceased (civil status vedovo)", widow_index);

        // Cancelled: moved to another comune.
        let mut cancelled = self.person(Sex::F, (ymd(1970, 1, 1), ymd(1995, 12, 31)), None);
        cancelled.reg = Reg::Cancelled;
        cancelled.cancelled = Some((ymd(2025, 9, 30), "EMIGRAZIONE IN ALTRO COMUNE".to_owned()));
        let index = self.push(cancelled);
        self.case("cancelled (emigrated; no family)", index);

        let index = self.single(None);
        self.people[index].certifiability = 0;
        self.case("not certifiable (certificabilita 0)", index);

        let index = self.single(None);
        self.people[index].certifiability = 1;
        self.case("partially certifiable (certificabilita 1)", index);

        let indices = self.couple("matrimonio", 1);
        let spouse = indices[1];
        self.people[spouse].certifiability = 4;
        self.case(
            "interdicted (certificabilita 4), a spouse in a family",
            spouse,
        );

        let index = self.single(None);
        self.people[index].procedure = Some((
            "ACCERTAMENTO DELLA DIMORA ABITUALE PER CAMBIO DI ABITAZIONE".to_owned(),
            ymd(2026, 10, 5),
        ));
        self.case("open administrative procedure", index);

        // Two men whose data give the same codice fiscale: the second gets
        // an omocodia variant.
        for surname in ["ROSSI", "RUSSO"] {
            let index = self.single(None);
            let person = &mut self.people[index];
            person.surname = surname.to_owned();
            person.names = "MARIO".to_owned();
            person.sex = Sex::M;
            person.birth = ymd(1970, 1, 1);
            person.place = Place {
                printed: HOME.0.to_owned(),
                code: HOME.1.to_owned(),
            };
            person.citizenship = "ITALIANA".to_owned();
            self.case("same data as another person (omocodia)", index);
        }

        // A family whose head has left: a spouse and a child, no head.
        let indices = self.couple("matrimonio", 1);
        let head = indices[0];
        let family = self.people[head].family;
        self.people.remove(head);
        for (position, person) in self.people.iter_mut().enumerate() {
            person.id = position as i64 + 1;
        }
        let members: Vec<usize> = (0..self.people.len())
            .filter(|&i| self.people[i].family == family)
            .collect();
        for member in members {
            self.case("family without a head (spouse 2, child 3)", member);
        }
        self.shapes
            .push(("special cases", 1, self.people.len() - before));
    }

    /// Notes that the person at `index` stands for a case (fiscal codes
    /// are assigned at the end, so the index is kept).
    fn case(&mut self, what: &'static str, index: usize) {
        self.cases.push((what, index));
    }

    fn assign_fiscal_codes(&mut self) {
        for index in 0..self.people.len() {
            let person = &self.people[index];
            let base = cf::compute(
                &person.surname,
                &person.names,
                person.sex,
                person.birth,
                &person.place.code,
            )
            .expect("the generator uses valid place codes");
            // Two people with the same data: the later gets an omocodia
            // variant, as the Agenzia delle Entrate would assign.
            let mut code = base.clone();
            let mut level = 0;
            while self.codes.contains(code.as_str()) {
                level += 1;
                code = cf::omocodia_variant(&base, level).expect("fewer than 8 people share data");
            }
            self.codes.insert(code.as_str().to_owned());
            self.people[index].fiscal_code = code.to_string();
        }
    }

    fn write_people(&self, path: &Path) -> Result<(), Box<dyn Error>> {
        let mut writer = csv::Writer::from_path(path)?;
        writer.write_record(store::import::PEOPLE_COLUMNS)?;
        for p in &self.people {
            let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
            let (aire_country, aire_address, aire_date) = match &p.aire {
                Some((c, a, d)) => (c.clone(), a.clone(), d.to_string()),
                None => Default::default(),
            };
            let (cancelled_on, cancelled_why) = match &p.cancelled {
                Some((d, why)) => (d.to_string(), why.clone()),
                None => Default::default(),
            };
            let (conv_id, conv_name) = match &p.convivenza {
                Some((id, name)) => (id.to_string(), name.clone()),
                None => Default::default(),
            };
            let [street, number, unit, locality] = p.address.clone().unwrap_or_default();
            let postcode = if p.address.is_some() { POSTCODE } else { "" };
            let (u_kind, u_partner, u_date, u_place, u_end) = match &p.union {
                Some(u) => (
                    u.kind.to_owned(),
                    u.partner.clone(),
                    u.date.to_string(),
                    u.place.clone(),
                    date(u.ended),
                ),
                None => Default::default(),
            };
            let (proc_what, proc_date) = match &p.procedure {
                Some((what, d)) => (what.clone(), d.to_string()),
                None => Default::default(),
            };
            let record: [String; 34] = [
                p.id.to_string(),
                p.fiscal_code.clone(),
                p.surname.clone(),
                p.names.clone(),
                p.sex.code().to_owned(),
                p.birth.to_string(),
                p.place.printed.clone(),
                p.place.code.clone(),
                p.citizenship.clone(),
                p.civil.to_owned(),
                match p.reg {
                    Reg::Resident => "R",
                    Reg::Aire => "A",
                    Reg::Cancelled => "C",
                }
                .to_owned(),
                aire_country,
                aire_address,
                aire_date,
                cancelled_on,
                cancelled_why,
                p.family.map(|f| f.to_string()).unwrap_or_default(),
                conv_id,
                conv_name,
                p.relationship.map(|r| r.to_string()).unwrap_or_default(),
                street,
                number,
                unit,
                postcode.to_owned(),
                locality,
                p.certifiability.to_string(),
                date(p.death),
                u_kind,
                u_partner,
                u_date,
                u_place,
                u_end,
                proc_what,
                proc_date,
            ];
            writer.write_record(&record)?;
        }
        writer.flush()?;
        Ok(())
    }

    fn report(&self, parcels: usize) {
        println!("people: {}", self.people.len());
        for (shape, families, people) in &self.shapes {
            println!("  {shape}: {families}, {people} people");
        }
        println!("parcels: {parcels}");
        println!("cases:");
        for &(what, index) in &self.cases {
            let person = &self.people[index];
            println!(
                "  {what}: id {} {} {} ({})",
                person.id,
                person.fiscal_code,
                person.full_name(),
                person
                    .family
                    .map_or("no family".to_owned(), |f| format!("family {f}"))
            );
        }
    }
}

/// A zone: code, name, NTA articles, permitted uses.
type ZoneDef = (&'static str, &'static str, &'static str, &'static str);

const ZONES: &[ZoneDef] = &[
    (
        "A1",
        "Centro storico",
        "art. 12; art. 13",
        "Residenza, commercio di vicinato, artigianato di servizio, uffici; restauro e risanamento conservativo",
    ),
    (
        "B1",
        "Residenziale di completamento",
        "art. 15",
        "Residenza e funzioni compatibili; nuova edificazione con indice fondiario 1,5 m³/m²",
    ),
    (
        "B2",
        "Residenziale consolidata",
        "art. 16",
        "Residenza; ristrutturazione edilizia e ampliamenti fino al 20% del volume",
    ),
    (
        "C1",
        "Espansione residenziale",
        "art. 18; art. 19",
        "Residenza previa approvazione di piano attuativo",
    ),
    (
        "C2",
        "Nuova espansione residenziale",
        "art. 20",
        "Residenza e servizi previa approvazione di piano attuativo; indice territoriale 0,8 m³/m²",
    ),
    (
        "D1",
        "Produttiva artigianale e industriale",
        "art. 22",
        "Attività produttive e artigianali, depositi; alloggio del custode fino a 120 m²",
    ),
    (
        "E1",
        "Agricola produttiva",
        "art. 25",
        "Attività agricole; residenza dell'imprenditore agricolo professionale",
    ),
    (
        "E2",
        "Agricola di pregio paesaggistico",
        "art. 26; art. 27",
        "Attività agricole; esclusa la nuova edificazione",
    ),
    (
        "F1",
        "Attrezzature pubbliche e di interesse collettivo",
        "art. 30",
        "Servizi pubblici, istruzione, sanità, culto",
    ),
    (
        "F2",
        "Verde pubblico",
        "art. 31",
        "Parchi, giardini, attrezzature sportive all'aperto",
    ),
];

const CONSTRAINTS: &[(&str, &str, &str)] = &[
    ("PAES", "Vincolo paesaggistico", "D.Lgs. 42/2004 art. 142"),
    ("IDRO", "Vincolo idrogeologico", "R.D.L. 3267/1923"),
    (
        "CIMI",
        "Fascia di rispetto cimiteriale",
        "R.D. 1265/1934 art. 338",
    ),
    (
        "STRA",
        "Fascia di rispetto stradale",
        "D.Lgs. 285/1992 art. 16",
    ),
];

struct ParcelOut {
    foglio: u32,
    particella: u32,
    subalterno: Option<u32>,
    area: u32,
    in_force: Vec<(&'static str, u32)>,
    adopted: Vec<(&'static str, u32)>,
    constraints: Vec<&'static str>,
}

/// Fifty parcels over six fogli: the centre (A1, B), the new quarter (B,
/// C, F), the industrial area (D), farmland (E), some split between zones,
/// some under constraints; the adopted plan turns some farmland into C2 and
/// some B1 into public green.
fn parcels(rng: &mut Rng) -> Vec<ParcelOut> {
    let layout: &[(u32, usize, &[&str])] = &[
        (1, 8, &["A1", "B1"]),
        (2, 8, &["B1", "B2", "F1"]),
        (3, 8, &["C1", "F2", "B2"]),
        (4, 7, &["D1"]),
        (5, 8, &["E1", "E2"]),
        (6, 8, &["E1", "E2"]),
    ];
    let mut out = Vec::new();
    for &(foglio, count, zones) in layout {
        let mut particella = 10 + rng.below(40) as u32;
        for n in 0..count {
            particella += 1 + rng.below(60) as u32;
            let area = match foglio {
                1 | 2 => 150 + rng.below(1500) as u32,
                3 | 4 => 800 + rng.below(6000) as u32,
                _ => 3000 + rng.below(30000) as u32,
            };
            let main = zones[rng.below(zones.len())];
            let in_force = match n % 4 {
                // Every fourth parcel straddles two zones.
                1 if zones.len() > 1 => {
                    let other = zones.iter().copied().find(|z| *z != main).unwrap_or(main);
                    let share = [5000, 6000, 7550, 8000][rng.below(4)];
                    vec![(main, share), (other, 10_000 - share)]
                }
                _ => vec![(main, 10_000)],
            };
            let mut adopted = in_force.clone();
            if foglio == 5 && n < 3 {
                adopted = vec![("C2", 10_000)];
            }
            if foglio == 3 && n == 2 {
                adopted = vec![("C2", 7000), ("F2", 3000)];
            }
            if foglio == 2 && in_force.iter().any(|(z, _)| *z == "B1") && n % 3 == 0 {
                adopted = vec![("F2", 10_000)];
            }
            let mut constraints = Vec::new();
            if in_force.iter().any(|(z, _)| *z == "E2") || (foglio == 1 && n < 2) {
                constraints.push("PAES");
            }
            if foglio == 6 {
                constraints.push("IDRO");
            }
            if foglio == 2 && n >= 6 {
                constraints.push("CIMI");
            }
            if foglio == 4 && n % 2 == 0 {
                constraints.push("STRA");
            }
            out.push(ParcelOut {
                foglio,
                particella,
                subalterno: None,
                area,
                in_force,
                adopted,
                constraints,
            });
        }
    }
    // A parcel of the centre with a three-way split, and two subalterni of
    // one particella.
    out.push(ParcelOut {
        foglio: 1,
        particella: 999,
        subalterno: None,
        area: 2400,
        in_force: vec![("A1", 5000), ("B1", 3000), ("F2", 2000)],
        adopted: vec![("A1", 5000), ("F2", 5000)],
        constraints: vec!["PAES", "STRA"],
    });
    for sub in [1, 2] {
        out.push(ParcelOut {
            foglio: 2,
            particella: 1000,
            subalterno: Some(sub),
            area: 300 + 50 * sub,
            in_force: vec![("B2", 10_000)],
            adopted: vec![("B2", 10_000)],
            constraints: Vec::new(),
        });
    }
    out
}

fn write_parcels(path: &Path, parcels: &[ParcelOut]) -> Result<(), Box<dyn Error>> {
    let mut writer = csv::Writer::from_path(path)?;
    writer.write_record(store::import::PARCEL_COLUMNS)?;
    for parcel in parcels {
        let constraints: Vec<String> = parcel
            .constraints
            .iter()
            .filter_map(|code| CONSTRAINTS.iter().find(|c| c.0 == *code))
            .map(|(code, description, norm)| format!("{code}|{description}|{norm}"))
            .collect();
        for (plan, shares) in [("vigente", &parcel.in_force), ("adottato", &parcel.adopted)] {
            for (zone, share) in shares {
                let Some((code, name, articles, uses)) = ZONES.iter().find(|z| z.0 == *zone) else {
                    continue;
                };
                writer.write_record([
                    parcel.foglio.to_string(),
                    parcel.particella.to_string(),
                    parcel.subalterno.map(|s| s.to_string()).unwrap_or_default(),
                    parcel.area.to_string(),
                    plan.to_owned(),
                    (*code).to_owned(),
                    (*name).to_owned(),
                    (*articles).to_owned(),
                    (*uses).to_owned(),
                    format!("{},{:02}", share / 100, share % 100),
                    constraints.join(";"),
                ])?;
            }
        }
    }
    writer.flush()?;
    Ok(())
}
