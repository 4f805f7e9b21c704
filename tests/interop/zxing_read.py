"""Reads the QR codes of greyscale images with zxing-cpp, for the scan
corpus test: one JSON line per image, {"file": path, "texts": [...]}.

The images are binary PGM (P5, 8 bit), so nothing but zxing-cpp itself is
needed: no numpy, no Pillow. zxing-cpp runs with its defaults (try rotate,
downscale and invert).
"""

import json
import sys

import zxingcpp


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields = []
    i = 0
    while len(fields) < 4:
        while data[i : i + 1].isspace():
            i += 1
        if data[i : i + 1] == b"#":
            while data[i : i + 1] not in (b"\n", b""):
                i += 1
            continue
        j = i
        while not data[j : j + 1].isspace():
            j += 1
        fields.append(data[i:j])
        i = j
    if fields[0] != b"P5" or fields[3] != b"255":
        raise ValueError(f"{path}: not an 8-bit binary PGM")
    width, height = int(fields[1]), int(fields[2])
    pixels = data[i + 1 : i + 1 + width * height]
    return memoryview(pixels).cast("B", (height, width))


def main(paths):
    for path in paths:
        barcodes = zxingcpp.read_barcodes(read_pgm(path), formats=zxingcpp.BarcodeFormat.QRCode)
        print(json.dumps({"file": path, "texts": [b.text for b in barcodes]}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
