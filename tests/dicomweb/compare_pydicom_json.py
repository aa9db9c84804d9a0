"""dicomd's WADO-RS /metadata against pydicom's own DICOM JSON (Dataset.to_json_dict),
an independent reading of the same files: every attribute on both sides with the same
vr and values, sequences with as many items, binary values inline or by URI.

    /usr/bin/python3 compare_pydicom_json.py PORT FILE...

Left out on purpose (docs/dicomweb.md): group lengths; the file meta group (not part of
the data set); SpecificCharacterSet (dicomd's values are UTF-8: "ISO_IR 192"),
AvailableTransferSyntaxUID (dicomd adds it); trailing padding after the pixel data.
Files that share their UIDs with another are skipped (DICOMweb serves one of them).
Prints one line per difference and "compared N files"; exits 1 on any difference."""
import collections
import json
import math
import sys
import urllib.request

import pydicom

port, paths = sys.argv[1], sys.argv[2:]
IGNORED = {"00080005", "00083002", "FFFCFFFC"}


def same_number(a, b):
    return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-12)


def same_values(a, b):
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if isinstance(x, (int, float)) and isinstance(y, (int, float)):
            if not same_number(x, y):
                return False
        elif isinstance(x, str) and isinstance(y, str):
            if x.strip(" ") != y.strip(" "):  # padding in a multi-valued string is not significant
                return False
        elif isinstance(x, dict) and isinstance(y, dict):  # person names
            if {k: v.strip() for k, v in x.items() if v} != {k: v.strip() for k, v in y.items() if v}:
                return False
        elif x != y:
            return False
    return True


def compare(name, tag_path, ref, ours, problems):
    for tag in sorted(set(ref) | set(ours)):
        if tag.endswith("0000") or tag in IGNORED:
            continue
        where = f"{name} {tag_path}{tag}"
        a, b = ref.get(tag), ours.get(tag)
        if a is None or b is None:
            problems.append(f"{where}: only in {'pydicom' if b is None else 'dicomd'}: {str(a or b)[:100]}")
            continue
        if a.get("vr") != b.get("vr"):
            problems.append(f"{where}: vr {a.get('vr')} vs {b.get('vr')}")
            continue
        if a.get("vr") == "SQ":
            items_a, items_b = a.get("Value", []), b.get("Value", [])
            if len(items_a) != len(items_b):
                problems.append(f"{where}: {len(items_a)} items vs {len(items_b)}")
            for i, (x, y) in enumerate(zip(items_a, items_b)):
                compare(name, f"{tag_path}{tag}[{i}].", x, y, problems)
            continue
        if "InlineBinary" in b and len(b["InlineBinary"]) > 4 * 64 / 3 + 4:
            problems.append(f"{where}: inlined a value over 64 bytes")
        if "InlineBinary" in a and "InlineBinary" in b and a["InlineBinary"] != b["InlineBinary"]:
            problems.append(f"{where}: inline binary differs")
        if ("Value" in a) != ("Value" in b) or not same_values(a.get("Value", []), b.get("Value", [])):
            problems.append(f"{where}: {str(a.get('Value'))[:80]} vs {str(b.get('Value'))[:80]}")


datasets = {}
uids = collections.Counter()
for path in paths:
    try:
        ds = pydicom.dcmread(path, force=True)
        key = (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
    except Exception:  # not readable, or no UIDs: not a DICOMweb instance
        continue
    datasets[path] = (ds, key)
    uids[key] += 1

problems, compared = [], 0
for path, (ds, key) in datasets.items():
    if uids[key] > 1:
        continue
    ref = ds.to_json_dict(bulk_data_threshold=64, bulk_data_element_handler=lambda e: "bulk")
    url = f"http://127.0.0.1:{port}/dicom-web/studies/{key[0]}/series/{key[1]}/instances/{key[2]}/metadata"
    try:
        ours = json.load(urllib.request.urlopen(url))[0]
    except Exception as e:
        problems.append(f"{path}: {url}: {e}")
        continue
    compare(path.rsplit("/", 1)[-1], "", ref, ours, problems)
    compared += 1

for p in problems:
    print(p)
print(f"compared {compared} files")
sys.exit(1 if problems else 0)
