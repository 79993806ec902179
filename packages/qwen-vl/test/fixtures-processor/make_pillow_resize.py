"""Reference outputs of Pillow's BICUBIC resize on 8-bit RGB images (for resizeBicubic's tests).

Run with Pillow installed: `python make_pillow_resize.py > pillow_resize.json`.
The inputs are pseudo-random noise (a fixed linear congruential generator, so no numpy is needed)
plus a sharp checkerboard: noise and hard edges exercise the clamping and the fixed-point rounding.
"""
import json
import sys

import PIL
from PIL import Image


def noise(width, height, seed):
    state = seed
    out = []
    for _ in range(width * height * 3):
        state = (state * 1103515245 + 12345) % 2**31
        out.append((state >> 16) % 256)
    return out


def checker(width, height):
    return [255 * (((x // 3) + (y // 2)) % 2) if c != 1 else (x * 37 + y * 11) % 256
            for y in range(height) for x in range(width) for c in range(3)]


inputs = {
    "noise23x17": (23, 17, noise(23, 17, 7)),
    "checker20x13": (20, 13, checker(20, 13)),
    "noise150x9": (150, 9, noise(150, 9, 11)),
}
sizes = {
    "noise23x17": [(11, 9), (31, 40), (8, 30), (50, 17), (23, 5), (3, 2), (23, 17)],
    "checker20x13": [(11, 9), (31, 40), (8, 30), (50, 13), (20, 5), (3, 2)],
    "noise150x9": [(7, 9), (56, 28), (150, 5)],
}
cases = []
for name, (width, height, pixels) in inputs.items():
    image = Image.frombytes("RGB", (width, height), bytes(pixels))
    for out_w, out_h in sizes[name]:
        resized = image.resize((out_w, out_h), resample=Image.BICUBIC, reducing_gap=None)
        cases.append({"input": name, "width": out_w, "height": out_h, "data": list(resized.tobytes())})

json.dump(
    {
        "pillow": PIL.__version__,
        "inputs": {name: {"width": w, "height": h, "data": d} for name, (w, h, d) in inputs.items()},
        "cases": cases,
    },
    sys.stdout,
)
