#!/usr/bin/python3
"""Decodes an animated image with Debian's PIL, independently of dicomd's
encoders, and prints what the tests check as JSON: format, size, frame
count, each frame's duration (ms) and mean grey level, and the loop count."""
import json
import sys

from PIL import Image, ImageStat

image = Image.open(sys.argv[1])
durations, means = [], []
for index in range(getattr(image, "n_frames", 1)):
    image.seek(index)
    image.load()  # WebP sets the frame's duration when it is read
    durations.append(image.info.get("duration"))
    means.append(ImageStat.Stat(image.convert("L")).mean[0])
print(json.dumps({
    "format": image.format,
    "size": list(image.size),
    "frames": getattr(image, "n_frames", 1),
    "durations": durations,
    "means": means,
    "loop": image.info.get("loop"),
}))
