"""Reader of the official state_dict key lists in tests/data/keys (every entry of the official models'
state_dicts, as their own code builds them)."""
from pathlib import Path

import torch

KEYS_DIR = Path(__file__).resolve().parent / 'data' / 'keys'


def read_key_file(name: str) -> list[tuple[str, tuple, torch.dtype]]:
    """``(name, shape, dtype)`` of every entry of ``<name>.txt``, in registration order."""
    path = KEYS_DIR / f'{name}.txt'
    if not path.is_file():
        raise FileNotFoundError(f'reference key file not found: {path}')
    rows = []
    for ln in path.read_text().splitlines():
        if not ln.strip() or ln.startswith('#'):
            continue
        key, shape, dtype, _ = ln.split()
        shp = () if shape == 'scalar' else tuple(int(s) for s in shape.split('x'))
        rows.append((key, shp, getattr(torch, dtype)))
    return rows
