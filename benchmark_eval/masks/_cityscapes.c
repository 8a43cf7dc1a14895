/*
 * Cityscapes counting kernels.
 *
 * count: pixel-level counting in one pass over three maps of one image:
 *   - the (GT label id, predicted label id) pair histogram, added into a 65536-bin array
 *     indexed gt * 256 + pred;
 *   - for every GT instance (instance-map value > 1000): its pixels, those predicted as its
 *     label (value / 1000), and those predicted as any label of its category (a 0/1 table
 *     indexed (value / 1000) * 256 + pred).
 * Label maps are piecewise constant: 8 pixels are compared at once with the current
 * (label, prediction, instance) and counted as a run when all equal.
 *
 * value_counts: the pixels of every value of a uint16 instance map, the same way.
 *
 * overlaps: the pixels of a binary mask (non-zero) inside a box, counted per GT segment
 * through a value -> segment index table.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IDS 65536
#define ABOVE 1000

typedef struct {
    int64_t *size, *tp, *cat; /* IDS each, zero outside an image's pass */
    uint16_t *touched;        /* instance ids seen in this pass */
    Py_ssize_t n_touched;
} instances_t;

static void add_run(int64_t *pairs, instances_t *t, const uint8_t *same, unsigned g,
                    unsigned p, unsigned v, int64_t run) {
    pairs[(g << 8) | p] += run;
    if (v > ABOVE) {
        unsigned label = v / 1000;
        if (!t->size[v]) t->touched[t->n_touched++] = (uint16_t)v;
        t->size[v] += run;
        if (p == label) t->tp[v] += run;
        if (same[label * 256 + p]) t->cat[v] += run;
    }
}

static int by_id(const void *a, const void *b) {
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/*
 * count(labels, pred, instances, pairs, same, scratch, touched) -> bytes
 *   labels, pred: uint8, n pixels; instances: uint16, n pixels (C-contiguous).
 *   pairs: writable int64[65536], added to.
 *   same: uint8[66 * 256], 1 where a prediction is in the category of an instance label.
 *   scratch: writable int64[3 * 65536], all zero (and left all zero).
 *   touched: writable uint16[65536].
 * Returns int64 rows (id, size, tp, cat_tp) of the instances, ascending id, as bytes.
 */
static PyObject *count(PyObject *self, PyObject *args) {
    Py_buffer lab, pred, ins, pairs, same, scratch, touched;
    if (!PyArg_ParseTuple(args, "y*y*y*w*y*w*w*", &lab, &pred, &ins, &pairs, &same, &scratch,
                          &touched))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = lab.len;
    if (pred.len != n || ins.len != 2 * n || pairs.len < IDS * 8 || same.len < 66 * 256 ||
        scratch.len < 3 * IDS * 8 || touched.len < IDS * 2) {
        PyErr_SetString(PyExc_ValueError, "count: buffer sizes do not match");
        goto done;
    }
    const uint8_t *g = lab.buf, *p = pred.buf, *tab = same.buf;
    const uint16_t *v = ins.buf;
    int64_t *hist = pairs.buf, *s = scratch.buf;
    instances_t t = {s, s + IDS, s + 2 * IDS, touched.buf, 0};
    Py_BEGIN_ALLOW_THREADS
    if (n) {
        unsigned cg = g[0], cp = p[0], cv = v[0];
        int64_t run = 0;
        uint64_t bg = 0x0101010101010101ULL * cg, bp = 0x0101010101010101ULL * cp;
        uint64_t bv = 0x0001000100010001ULL * cv;
        Py_ssize_t i = 0;
        while (i < n) {
            if (i + 8 <= n) {
                uint64_t wg, wp, wv0, wv1;
                memcpy(&wg, g + i, 8);
                memcpy(&wp, p + i, 8);
                memcpy(&wv0, v + i, 8);
                memcpy(&wv1, v + i + 4, 8);
                if (wg == bg && wp == bp && wv0 == bv && wv1 == bv) {
                    run += 8;
                    i += 8;
                    continue;
                }
            }
            if (g[i] == cg && p[i] == cp && v[i] == cv) {
                run++;
                i++;
                continue;
            }
            add_run(hist, &t, tab, cg, cp, cv, run);
            cg = g[i];
            cp = p[i];
            cv = v[i];
            bg = 0x0101010101010101ULL * cg;
            bp = 0x0101010101010101ULL * cp;
            bv = 0x0001000100010001ULL * cv;
            run = 1;
            i++;
        }
        add_run(hist, &t, tab, cg, cp, cv, run);
    }
    qsort(t.touched, (size_t)t.n_touched, sizeof(uint16_t), by_id);
    Py_END_ALLOW_THREADS
    result = PyBytes_FromStringAndSize(NULL, t.n_touched * 4 * (Py_ssize_t)sizeof(int64_t));
    if (result) {
        int64_t *rows = (int64_t *)PyBytes_AS_STRING(result);
        for (Py_ssize_t k = 0; k < t.n_touched; k++) {
            unsigned id = t.touched[k];
            rows[4 * k] = id;
            rows[4 * k + 1] = t.size[id];
            rows[4 * k + 2] = t.tp[id];
            rows[4 * k + 3] = t.cat[id];
        }
    }
    for (Py_ssize_t k = 0; k < t.n_touched; k++) { /* leave the scratch all zero */
        unsigned id = t.touched[k];
        t.size[id] = t.tp[id] = t.cat[id] = 0;
    }
done:
    PyBuffer_Release(&lab);
    PyBuffer_Release(&pred);
    PyBuffer_Release(&ins);
    PyBuffer_Release(&pairs);
    PyBuffer_Release(&same);
    PyBuffer_Release(&scratch);
    PyBuffer_Release(&touched);
    return result;
}

/*
 * value_counts(instances, scratch, touched) -> bytes
 *   instances: uint16 map; scratch: writable int64[65536], all zero (left all zero);
 *   touched: writable uint16[65536]. Returns int64 rows (value, pixels), ascending value.
 */
static PyObject *value_counts(PyObject *self, PyObject *args) {
    Py_buffer ins, scratch, touched;
    if (!PyArg_ParseTuple(args, "y*w*w*", &ins, &scratch, &touched)) return NULL;
    PyObject *result = NULL;
    if (ins.len % 2 || scratch.len < IDS * 8 || touched.len < IDS * 2) {
        PyErr_SetString(PyExc_ValueError, "value_counts: buffer sizes do not match");
        goto done;
    }
    const uint16_t *v = ins.buf;
    int64_t *counts = scratch.buf;
    uint16_t *seen = touched.buf;
    Py_ssize_t n = ins.len / 2, m = 0;
    Py_BEGIN_ALLOW_THREADS
    if (n) {
        unsigned cv = v[0];
        uint64_t bv = 0x0001000100010001ULL * cv;
        int64_t run = 0;
        Py_ssize_t i = 0;
        while (i < n) {
            if (i + 8 <= n) {
                uint64_t w0, w1;
                memcpy(&w0, v + i, 8);
                memcpy(&w1, v + i + 4, 8);
                if (w0 == bv && w1 == bv) { run += 8; i += 8; continue; }
            }
            if (v[i] == cv) { run++; i++; continue; }
            if (!counts[cv]) seen[m++] = (uint16_t)cv;
            counts[cv] += run;
            cv = v[i];
            bv = 0x0001000100010001ULL * cv;
            run = 1;
            i++;
        }
        if (!counts[cv]) seen[m++] = (uint16_t)cv;
        counts[cv] += run;
    }
    qsort(seen, (size_t)m, sizeof(uint16_t), by_id);
    Py_END_ALLOW_THREADS
    result = PyBytes_FromStringAndSize(NULL, m * 2 * (Py_ssize_t)sizeof(int64_t));
    if (result) {
        int64_t *rows = (int64_t *)PyBytes_AS_STRING(result);
        for (Py_ssize_t k = 0; k < m; k++) {
            rows[2 * k] = seen[k];
            rows[2 * k + 1] = counts[seen[k]];
        }
    }
    for (Py_ssize_t k = 0; k < m; k++) counts[seen[k]] = 0;
done:
    PyBuffer_Release(&ins);
    PyBuffer_Release(&scratch);
    PyBuffer_Release(&touched);
    return result;
}

/*
 * overlaps(mask, instances, width, r0, r1, c0, c1, lut, counts) -> area
 *   mask: uint8 (H, W); instances: uint16 (H, W); lut: intp, the segment index of every
 *   value up to the map's maximum; counts: writable int64[segments], added to.
 *   Only rows r0..r1-1 and columns c0..c1-1 are visited.
 */
static PyObject *overlaps(PyObject *self, PyObject *args) {
    Py_buffer mask, ins, lut, counts;
    Py_ssize_t w, r0, r1, c0, c1;
    if (!PyArg_ParseTuple(args, "y*y*nnnnny*w*", &mask, &ins, &w, &r0, &r1, &c0, &c1, &lut,
                          &counts))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t h = w > 0 ? mask.len / w : 0, area = 0, bad = 0;
    if (w <= 0 || mask.len != h * w || ins.len != 2 * mask.len || r0 < 0 || r1 > h ||
        c0 < 0 || c1 > w || lut.itemsize != (Py_ssize_t)sizeof(Py_ssize_t)) {
        PyErr_SetString(PyExc_ValueError, "overlaps: buffer sizes do not match");
        goto done;
    }
    const uint8_t *m = mask.buf;
    const uint16_t *v = ins.buf;
    const Py_ssize_t *index = lut.buf;
    Py_ssize_t n_lut = lut.len / (Py_ssize_t)sizeof(Py_ssize_t);
    Py_ssize_t n_seg = counts.len / (Py_ssize_t)sizeof(int64_t);
    int64_t *out = counts.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t y = r0; y < r1 && !bad; y++) {
        const uint8_t *mr = m + y * w;
        const uint16_t *vr = v + y * w;
        for (Py_ssize_t x = c0; x < c1; x++) {
            if (!mr[x]) continue;
            Py_ssize_t k = vr[x] < n_lut ? index[vr[x]] : -1;
            if (k < 0 || k >= n_seg) { bad = 1; break; }
            out[k]++;
            area++;
        }
    }
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "overlaps: a value has no segment");
        goto done;
    }
    result = PyLong_FromSsize_t(area);
done:
    PyBuffer_Release(&mask);
    PyBuffer_Release(&ins);
    PyBuffer_Release(&lut);
    PyBuffer_Release(&counts);
    return result;
}

static PyMethodDef methods[] = {
    {"value_counts", value_counts, METH_VARARGS,
     "Pixels of every value of a uint16 map, ascending value."},
    {"overlaps", overlaps, METH_VARARGS,
     "Pixels of a mask inside a box, counted per GT segment."},
    {"count", count, METH_VARARGS,
     "Pair histogram and per-instance counts of one Cityscapes image."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cityscapes", NULL, -1, methods};

PyMODINIT_FUNC PyInit__cityscapes(void) { return PyModule_Create(&module); }
