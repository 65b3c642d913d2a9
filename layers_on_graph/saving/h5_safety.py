"""An HDF5 file is read only from itself.

HDF5 can make a name inside one file stand for data elsewhere: an external link
(a group or dataset of another file), a soft link (another path, which may lead
to an external link), a user-defined link, a dataset whose raw data lives in
external files, or a virtual dataset mapping other files' datasets. A crafted
weights file using any of these would make ``load_weights`` read whatever HDF5
or raw file the user can read. This library never writes them, so a loaded file
that holds one is refused as a whole, before anything is read (as Keras 3.15
refuses them: "Not allowed: H5 file with ExternalLink").
"""
from __future__ import annotations

import h5py


def check_self_contained(f: h5py.Group, filepath: str, what: str) -> None:
    """Raise ValueError if any link or dataset in ``f`` leads outside the file.

    Walks every group through its hard links only, so nothing is resolved
    before it has been checked.
    """
    seen = set()
    stack = [("", f)]
    while stack:
        prefix, group = stack.pop()
        if group.id in seen:  # a group reached through two hard links
            continue
        seen.add(group.id)
        for name in group:
            path = f"{prefix}/{name}"
            link = group.get(name, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise ValueError(_refusal(what, filepath, path, type(link).__name__,
                                          _target(link)))
            obj = group[name]
            if isinstance(obj, h5py.Group):
                stack.append((path, obj))
            elif isinstance(obj, h5py.Dataset):
                if obj.is_virtual:
                    sources = sorted({m.file_name for m in obj.virtual_sources()})
                    raise ValueError(_refusal(what, filepath, path, "virtual Dataset",
                                              f"mapping datasets of {sources}"))
                if obj.external:
                    files = [entry[0] for entry in obj.external]
                    raise ValueError(_refusal(what, filepath, path, "external Dataset",
                                              f"its data stored in {files}"))


def _target(link) -> str:
    if isinstance(link, h5py.ExternalLink):
        return f"to {link.path!r} in {link.filename!r}"
    if isinstance(link, h5py.SoftLink):
        return f"to {link.path!r}"
    return "a user-defined link"


def _refusal(what: str, filepath: str, path: str, kind: str, detail: str) -> str:
    return (f"{what}: Not allowed: H5 file with {kind} at {path!r} ({detail}) in {filepath!r}; "
            f"a weights file must hold its own data (links, external storage and virtual "
            f"datasets could read other files)")
