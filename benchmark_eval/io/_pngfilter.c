/*
 * PNG row filters reversed (PNG specification, section 9 "Filtering"), for the fast
 * grayscale decoder of benchmark_eval.io.pngdecode: the inflated IDAT stream holds one
 * filter-type byte then `rowbytes` filtered bytes per row; each row is rebuilt from the row
 * above (already rebuilt) and the bytes `bpp` to its left:
 *   0 None, 1 Sub (+left), 2 Up (+above), 3 Average (+(left + above) / 2),
 *   4 Paeth (+ whichever of left, above, upper-left is closest to left + above - upper-left).
 * 16-bit samples are stored big-endian; `swap16` turns them into native little-endian
 * uint16 afterwards.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* whether n bytes are all zero: 8 bytes per step OR-ed without early exit, which the
   compiler vectorises */
static int all_zero(const uint8_t *p, Py_ssize_t n) {
    uint64_t acc = 0, word;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&word, p + i, 8);
        acc |= word;
    }
    for (; i < n; i++) acc |= p[i];
    return acc == 0;
}

/* Sub, Average and Paeth depend on the byte `bpp` to the left: each of the `bpp` byte lanes
   is rebuilt in one pass, its left (and upper-left) byte kept in a register */
static void sub_row(const uint8_t *restrict in, uint8_t *restrict out, Py_ssize_t n, int bpp) {
    for (int k = 0; k < bpp; k++) {
        uint8_t left = 0;
        for (Py_ssize_t x = k; x < n; x += bpp) out[x] = left = (uint8_t)(in[x] + left);
    }
}

static void average_row(const uint8_t *restrict in, uint8_t *restrict out,
                        const uint8_t *restrict above, Py_ssize_t n, int bpp) {
    for (int k = 0; k < bpp; k++) {
        unsigned left = 0;
        for (Py_ssize_t x = k; x < n; x += bpp)
            out[x] = (uint8_t)(left = (uint8_t)(in[x] + ((left + above[x]) >> 1)));
    }
}

static void paeth_row(const uint8_t *restrict in, uint8_t *restrict out,
                      const uint8_t *restrict above, Py_ssize_t n, int bpp) {
    for (int k = 0; k < bpp; k++) {
        int left = 0, corner = 0;
        for (Py_ssize_t x = k; x < n; x += bpp) {
            int up = above[x];
            /* p = left + up - corner; the neighbour closest to p, ties to left then up */
            int pa = abs(up - corner), pb = abs(left - corner), pc = abs(left + up - 2 * corner);
            int pred = (pa <= pb && pa <= pc) ? left : (pb <= pc ? up : corner);
            out[x] = (uint8_t)(left = (uint8_t)(in[x] + pred));
            corner = up;
        }
    }
}

/* rebuild one row; returns 1 if it holds a non-zero byte, 0 if not, -1 for an unknown
   filter type (None and Up, the usual filters of sparse masks, note non-zero bytes while
   writing them). The first row has no row above: Up is None, Average and Paeth are Sub
   (Paeth's predictor is then always the left byte). */
static int unfilter_row(int type, const uint8_t *restrict in, uint8_t *restrict out,
                        const uint8_t *restrict above, Py_ssize_t n, int bpp, int track) {
    Py_ssize_t x;
    uint8_t acc = 0;
    if (!above && type == 2) type = 0;
    if (!above && type == 4) type = 1;
    switch (type) {
    case 0:
        for (x = 0; x < n; x++) { out[x] = in[x]; acc |= in[x]; }
        return acc != 0;
    case 2:
        for (x = 0; x < n; x++) {
            uint8_t v = (uint8_t)(in[x] + above[x]);
            out[x] = v;
            acc |= v;
        }
        return acc != 0;
    case 1:
        sub_row(in, out, n, bpp);
        break;
    case 3:
        if (above) {
            average_row(in, out, above, n, bpp);
        } else {
            for (int k = 0; k < bpp; k++) {
                unsigned left = 0;
                for (x = k; x < n; x += bpp)
                    out[x] = (uint8_t)(left = (uint8_t)(in[x] + (left >> 1)));
            }
        }
        break;
    case 4:
        paeth_row(in, out, above, n, bpp);
        break;
    default:
        return -1;
    }
    return track ? !all_zero(out, n) : 1;
}

static void swap_pairs(uint8_t *p, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i + 1 < n; i += 2) {
        uint8_t t = p[i];
        p[i] = p[i + 1];
        p[i + 1] = t;
    }
}

/* first non-zero byte at or after `from` (and before n), or n */
static Py_ssize_t first_nonzero(const uint8_t *row, Py_ssize_t from, Py_ssize_t n) {
    uint64_t word;
    Py_ssize_t a = from;
    for (; a + 8 <= n; a += 8) {
        memcpy(&word, row + a, 8);
        if (word) break;
    }
    while (a < n && !row[a]) a++;
    return a;
}

/* one past the last non-zero byte before `to` (and at or after from), or from */
static Py_ssize_t end_nonzero(const uint8_t *row, Py_ssize_t from, Py_ssize_t to) {
    uint64_t word;
    Py_ssize_t b = to;
    for (; b - 8 >= from; b -= 8) {
        memcpy(&word, row + b - 8, 8);
        if (word) break;
    }
    while (b > from && !row[b - 1]) b--;
    return b;
}

/* widen the box columns [ext[2], ext[3]) by a non-zero row: only the margins outside the
   box so far are looked at, with a vectorisable all-zero test first */
static void widen(const uint8_t *row, Py_ssize_t n, int64_t *ext) {
    if (ext[2] < 0) {
        ext[2] = first_nonzero(row, 0, n);
        ext[3] = end_nonzero(row, ext[2], n);
        return;
    }
    Py_ssize_t c0 = (Py_ssize_t)ext[2], c1 = (Py_ssize_t)ext[3];
    if (c0 > 0 && !all_zero(row, c0)) ext[2] = first_nonzero(row, 0, c0);
    if (c1 < n && !all_zero(row + c1, n - c1)) ext[3] = end_nonzero(row, c1, n);
}

/*
 * unfilter(raw, out, height, rowbytes, bpp, swap16, box) -> None
 *   raw: the inflated IDAT bytes, height * (1 + rowbytes) long (or longer).
 *   out: a writable C-contiguous buffer of height * rowbytes bytes.
 *   bpp: bytes per complete pixel (1 for 8-bit, 2 for 16-bit grayscale).
 *   swap16: swap each byte pair afterwards (big-endian 16-bit samples to little-endian).
 *   box: None, or a writable buffer of 4 int64 set to the rows and byte columns holding
 *        non-zero bytes: first row, last row + 1, first column, last column + 1 (all -1 if
 *        none), found while each row is still in cache.
 * Raises ValueError naming the row of an unknown filter type.
 */
static PyObject *unfilter(PyObject *self, PyObject *args) {
    Py_buffer raw, out, box = {0};
    PyObject *box_obj;
    Py_ssize_t height, rowbytes;
    int bpp, swap16;
    if (!PyArg_ParseTuple(args, "y*w*nniiO", &raw, &out, &height, &rowbytes, &bpp, &swap16,
                          &box_obj))
        return NULL;
    PyObject *result = NULL;
    if (box_obj != Py_None) {
        if (PyObject_GetBuffer(box_obj, &box, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS)) goto done;
        if (box.len < 4 * (Py_ssize_t)sizeof(int64_t)) {
            PyErr_SetString(PyExc_ValueError, "unfilter: box needs 4 int64");
            goto done;
        }
    }
    if (height < 0 || rowbytes < 0 || bpp < 1 || raw.len < height * (rowbytes + 1) ||
        out.len < height * rowbytes || (swap16 && rowbytes % 2)) {
        PyErr_SetString(PyExc_ValueError, "unfilter: buffer sizes do not match the image");
        goto done;
    }
    Py_ssize_t bad = -1;
    int64_t extent[4] = {-1, -1, -1, -1};
    int want_box = box.buf != NULL;
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *in = (const uint8_t *)raw.buf;
    uint8_t *o = (uint8_t *)out.buf;
    for (Py_ssize_t y = 0; y < height; y++, in += rowbytes + 1) {
        uint8_t *row = o + y * rowbytes;
        int nonzero = unfilter_row(in[0], in + 1, row, y ? row - rowbytes : NULL, rowbytes, bpp,
                                   want_box);
        if (nonzero < 0) {
            bad = y;
            break;
        }
        /* the row above is no longer needed in file byte order: swap it while in cache */
        if (swap16 && y) swap_pairs(row - rowbytes, rowbytes);
        if (want_box && nonzero) {
            if (extent[0] < 0) extent[0] = y;
            extent[1] = y + 1;
            widen(row, rowbytes, extent);
        }
    }
    if (bad < 0 && swap16 && height) swap_pairs(o + (height - 1) * rowbytes, rowbytes);
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        PyErr_Format(PyExc_ValueError, "unknown PNG filter type in row %zd", bad);
        goto done;
    }
    if (want_box) memcpy(box.buf, extent, sizeof(extent));
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&raw);
    PyBuffer_Release(&out);
    if (box.buf) PyBuffer_Release(&box);
    return result;
}

static PyMethodDef methods[] = {
    {"unfilter", unfilter, METH_VARARGS, "Reverse the PNG row filters of inflated IDAT data."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_pngfilter", NULL, -1, methods};

PyMODINIT_FUNC PyInit__pngfilter(void) { return PyModule_Create(&module); }
