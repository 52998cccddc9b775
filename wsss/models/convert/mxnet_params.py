"""Reader of MXNet NDArray list files (``mx.nd.save``; ``Module.save_checkpoint``'s ``*.params``; Gluon
``save_parameters``) without MXNet: :func:`read_mxnet_params` returns ``{name: numpy array}``.

File layout (little-endian, as written on x86; every fact below is from MXNet's own source):

``NDArray::Save(dmlc::Stream*, data, names)`` / ``NDArray::Load(..., data, keys)`` in ``src/ndarray/ndarray.cc``
(``kMXAPINDArrayListMagic``); ``std::vector``/``std::string`` framing from dmlc-core
``include/dmlc/serializer.h`` (``ComposeVectorHandler``, ``PODStringHandler``: a ``uint64`` count first)::

    uint64  0x112                       kMXAPINDArrayListMagic
    uint64  0                           reserved
    uint64  N                           number of arrays, then N arrays (below)
    uint64  M                           number of names (0 for a saved list, else M == N), then M names:
            uint64 length + UTF-8 bytes     e.g. 'arg:conv1a_weight', 'aux:bn7_moving_var'

One array (``NDArray::Save(dmlc::Stream*)``, ``NDArray::Load``, ``LegacyLoad``, ``LegacyTShapeLoad``)::

    uint32  magic   0xF993FAC9  NDARRAY_V2_MAGIC (storage type follows)
                    0xF993FACA  NDARRAY_V3_MAGIC (the same, saved under NumPy shape semantics)
                    0xF993FAC8  NDARRAY_V1_MAGIC (no storage type)
                    anything else: the legacy format, where this word IS ndim
    int32   stype   V2/V3 only: 0 default (dense), 1 row_sparse, 2 csr (``NDArrayStorageType`` in
                    include/mxnet/ndarray.h); sparse arrays add a storage shape and aux arrays -> not supported
    shape           V1/V2/V3: int32 ndim + ndim x int64 (``Tuple::Save``/``Load``, include/mxnet/tuple.h);
                    legacy: ndim x uint32. An empty array ends here: ndim 0 in V1/V2/legacy, ndim -1 in V3
    int32   dev_type, int32 dev_id      context (``Context::Save``, include/mxnet/base.h: 1 cpu, 2 gpu,
                                        3 cpu_pinned, 5 cpu_shared); ignored, arrays are read to the CPU
    int32   type_flag                   ``mshadow::TypeFlag`` (3rdparty/mshadow/mshadow/base.h): 0 float32,
                                        1 float64, 2 float16, 3 uint8, 4 int32, 5 int8, 6 int64, 7 bool,
                                        8 int16, 9 uint16, 10 uint32, 11 uint64, 12 bfloat16
    bytes           prod(shape) x itemsize, C order

bfloat16 arrays (no NumPy dtype) are returned as float32 (exact: the 16 bits are the high half of a float32).
"""
from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Optional

import numpy as np

from wsss.utils.checkpoint import MXNET_NDARRAY_LIST_MAGIC

NDARRAY_V1_MAGIC = 0xF993FAC8
NDARRAY_V2_MAGIC = 0xF993FAC9
NDARRAY_V3_MAGIC = 0xF993FACA
#: mshadow TypeFlag -> NumPy dtype (12 = bfloat16 is handled separately)
TYPE_FLAGS = {0: np.float32, 1: np.float64, 2: np.float16, 3: np.uint8, 4: np.int32, 5: np.int8, 6: np.int64,
              7: np.bool_, 8: np.int16, 9: np.uint16, 10: np.uint32, 11: np.uint64}
BFLOAT16_FLAG = 12
STORAGE_TYPES = {0: 'default (dense)', 1: 'row_sparse', 2: 'csr'}


class MXNetParamsError(ValueError):
    """A file that is not a readable MXNet NDArray list; the message names the file and what is wrong."""


class _Cursor:
    """Little-endian reads from a byte buffer; a short read raises :class:`MXNetParamsError` saying what."""

    def __init__(self, data: bytes, path: Path):
        self.data, self.pos, self.path = memoryview(data), 0, path

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise MXNetParamsError(f'{self.path}: truncated MXNet NDArray file: {what} needs {n} bytes at offset '
                                   f'{self.pos}, only {len(self.data) - self.pos} left (file is {len(self.data)} '
                                   f'bytes)')
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str):
        return struct.unpack('<' + fmt, self.take(struct.calcsize('<' + fmt), what))


def _read_array(cur: _Cursor, index: int) -> Optional[np.ndarray]:
    """One NDArray (module docstring); ``None`` for an empty ("none") array."""
    where = f'array #{index}'
    (magic,) = cur.unpack('I', f'{where} magic')
    if magic in (NDARRAY_V2_MAGIC, NDARRAY_V3_MAGIC):
        (stype,) = cur.unpack('i', f'{where} storage type')
        if stype != 0:
            raise MXNetParamsError(f'{cur.path}: unsupported storage type {stype} '
                                   f'({STORAGE_TYPES.get(stype, "unknown")}) in {where}: only dense arrays '
                                   f'(storage type 0) can be read')
    if magic in (NDARRAY_V1_MAGIC, NDARRAY_V2_MAGIC, NDARRAY_V3_MAGIC):
        (ndim,) = cur.unpack('i', f'{where} ndim')
        if ndim == -1 or (ndim == 0 and magic != NDARRAY_V3_MAGIC):
            return None
        if ndim < 0:
            raise MXNetParamsError(f'{cur.path}: corrupt {where}: ndim {ndim}')
        shape = cur.unpack(f'{ndim}q', f'{where} shape')
    else:  # legacy: the magic word is ndim, dims are uint32
        ndim = magic
        if ndim > 32:
            raise MXNetParamsError(f'{cur.path}: bad NDArray magic 0x{magic:08X} in {where} (expected '
                                   f'0x{NDARRAY_V2_MAGIC:08X}, 0x{NDARRAY_V3_MAGIC:08X}, 0x{NDARRAY_V1_MAGIC:08X} '
                                   f'or a legacy ndim <= 32)')
        if ndim == 0:
            return None
        shape = cur.unpack(f'{ndim}I', f'{where} shape')
    if any(d < 0 for d in shape):
        if magic == NDARRAY_V3_MAGIC:
            return None  # unknown dim size under NumPy semantics = an empty array, nothing follows
        raise MXNetParamsError(f'{cur.path}: corrupt {where}: shape {shape}')
    cur.unpack('ii', f'{where} context')
    (flag,) = cur.unpack('i', f'{where} type flag')
    count = int(np.prod(shape, dtype=np.int64))
    if flag == BFLOAT16_FLAG:
        raw = np.frombuffer(cur.take(2 * count, f'{where} data ({count} bfloat16)'), dtype='<u2')
        return (raw.astype(np.uint32) << 16).view(np.float32).reshape(shape)
    if flag not in TYPE_FLAGS:
        raise MXNetParamsError(f'{cur.path}: unknown type flag {flag} in {where} (mshadow TypeFlag 0..12)')
    dtype = np.dtype(TYPE_FLAGS[flag]).newbyteorder('<')
    buf = cur.take(dtype.itemsize * count, f'{where} data ({count} x {dtype.name})')
    return np.frombuffer(buf, dtype=dtype).astype(dtype.newbyteorder('='), copy=True).reshape(shape)


def read_mxnet_params(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """``{name: array}`` of an MXNet NDArray list file, in file order (names keep their ``arg:``/``aux:``
    prefixes). A file saved from a list (no names) gives the keys ``'0'``, ``'1'``, ... Empty arrays are
    skipped. Raises :class:`MXNetParamsError` naming the file for a bad magic, a truncated file, a sparse
    array, an unknown type flag, duplicate names or trailing bytes."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'MXNet params file not found: {path}')
    cur = _Cursor(path.read_bytes(), path)
    if len(cur.data) < 16:
        raise MXNetParamsError(f'{path}: not an MXNet NDArray file ({len(cur.data)} bytes; the header alone is 16)')
    header, _reserved = cur.unpack('QQ', 'header')
    if header != MXNET_NDARRAY_LIST_MAGIC:
        raise MXNetParamsError(f'{path}: not an MXNet NDArray file: bad magic 0x{header:X} (expected '
                               f'0x{MXNET_NDARRAY_LIST_MAGIC:X}, kMXAPINDArrayListMagic)')
    (n,) = cur.unpack('Q', 'array count')
    if n > len(cur.data):
        raise MXNetParamsError(f'{path}: corrupt MXNet NDArray file: {n} arrays announced in {len(cur.data)} bytes')
    arrays = [_read_array(cur, i) for i in range(n)]
    (m,) = cur.unpack('Q', 'name count')
    if m not in (0, n):
        raise MXNetParamsError(f'{path}: corrupt MXNet NDArray file: {m} names for {n} arrays')
    names = []
    for i in range(m):
        (length,) = cur.unpack('Q', f'length of name #{i}')
        raw = bytes(cur.take(length, f'name #{i}'))
        try:
            names.append(raw.decode('utf-8'))
        except UnicodeDecodeError as e:
            raise MXNetParamsError(f'{path}: corrupt MXNet NDArray file: name #{i} is not UTF-8 ({e})') from e
    if cur.pos != len(cur.data):
        raise MXNetParamsError(f'{path}: {len(cur.data) - cur.pos} unexpected bytes after the last name '
                               f'(offset {cur.pos}); not an MXNet NDArray file or a corrupt one')
    names = names or [str(i) for i in range(n)]
    dup = sorted({k for k in names if names.count(k) > 1})
    if dup:
        raise MXNetParamsError(f'{path}: duplicate array names {dup[:5]}')
    return {k: a for k, a in zip(names, arrays) if a is not None}
