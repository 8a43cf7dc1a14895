/*
 * Compressed-RLE kernels: decode + check every string in one pass, and mask IoU of many
 * (detection, ground truth) pairs in one call.
 *
 * String format (maskApi.c rleToString): each run count is written as 5-bit groups, least
 * significant first, each char = group + 48, bit 0x20 = "more groups follow", bit 0x10 of
 * the last group = sign; counts from the fourth on are stored as the difference to the
 * count two places back. Runs alternate background / foreground, column-major.
 *
 * IoU is computed as maskApi.c rleIou does: intersection i and union u as integer pixel
 * counts, u = area of the detection for crowd GT, iou = (double)i / (double)u, 0 when i = 0.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define MAX_GROUPS 6

enum { OK = 0, BAD_CHAR = 1, TRUNCATED = 2, NEGATIVE = 3, WRONG_TOTAL = 4 };

/* Decode one string into runs (may be NULL); returns a status code. */
static int decode_one(const unsigned char *s, Py_ssize_t p, Py_ssize_t end, int64_t pixels,
                      int64_t h, uint32_t *runs, int64_t *n_runs, int64_t *area_out,
                      int64_t *total_out, int32_t *box) {
    int64_t prev2 = 0, prev1 = 0, total = 0, area = 0;
    int64_t m = 0, x0 = INT32_MAX, x1 = -1, y0 = INT32_MAX, y1 = -1;
    int64_t col = 0, row = 0; /* position of pixel `total` as (column, row) */
    int status = OK;
    while (p < end) {
        int64_t x = 0;
        int k = 0, more = 1;
        while (more) {
            if (p >= end || k >= MAX_GROUPS) { status = TRUNCATED; goto out; }
            int c = (int)s[p] - 48;
            if (c < 0 || c > 63) { status = BAD_CHAR; goto out; }
            x |= (int64_t)(c & 0x1f) << (5 * k);
            more = c & 0x20;
            p++;
            k++;
            if (!more && (c & 0x10)) x -= (int64_t)1 << (5 * k);
        }
        if (m > 2) x += prev2;
        if (x < 0 || x > UINT32_MAX) { status = NEGATIVE; goto out; }
        if (h > 0 && x > 0) {
            /* the run covers pixels [total, total + x); its last pixel is x - 1 further */
            int64_t last_row = row + x - 1, last_col = col;
            if (last_row >= h) { last_col += last_row / h; last_row %= h; }
            if (m & 1) { /* foreground: grow the box (full height if it crosses columns) */
                if (col < x0) x0 = col;
                if (last_col > x1) x1 = last_col;
                if (last_col != col) { y0 = 0; if (h - 1 > y1) y1 = h - 1; }
                else { if (row < y0) y0 = row; if (last_row > y1) y1 = last_row; }
                area += x;
            }
            row = last_row + 1;
            col = last_col;
            if (row == h) { row = 0; col++; }
        }
        total += x;
        if (runs) runs[m] = (uint32_t)x;
        prev2 = prev1;
        prev1 = x;
        m++;
    }
    if (total != pixels) status = WRONG_TOTAL;
out:
    *n_runs = m;
    *area_out = area;
    *total_out = total;
    if (box) {
        if (x1 < 0) { box[0] = box[1] = box[2] = box[3] = 0; }
        else { box[0] = (int32_t)x0; box[1] = (int32_t)y0;
               box[2] = (int32_t)(x1 - x0 + 1); box[3] = (int32_t)(y1 - y0 + 1); }
    }
    return status;
}

/*
 * decode(data, offsets, heights, widths, status, area, total, boxes, runs, run_offsets)
 *   data         bytes-like: all strings concatenated
 *   offsets      int64[n + 1]: string i is data[offsets[i]:offsets[i + 1]]
 *   heights      int64[n], widths int64[n]
 *   status       writable int8[n]: 0 ok, 1 bad char, 2 truncated, 3 negative run,
 *                4 runs do not cover h * w
 *   area, total  writable int64[n]: foreground pixels, pixels covered by all runs
 *   boxes        writable int32[n * 4]: conservative [x, y, w, h] (0s if empty)
 *   runs         writable uint32[...]: decoded runs, room for one per value (a char
 *                without the 0x20 bit ends a value)
 *   run_offsets  writable int64[n + 1]: runs of mask i are runs[run_offsets[i]:...[i + 1]]
 */
static PyObject *decode(PyObject *self, PyObject *args) {
    Py_buffer data, offsets, heights, widths, status, area, total, boxes, runs, run_offsets;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*w*w*w*w*w*", &data, &offsets, &heights, &widths,
                          &status, &area, &total, &boxes, &runs, &run_offsets))
        return NULL;
    Py_ssize_t n = heights.len / (Py_ssize_t)sizeof(int64_t);
    PyObject *result = NULL;
    if (offsets.len != (n + 1) * 8 || widths.len != heights.len || status.len != n ||
        area.len != heights.len || total.len != heights.len || boxes.len != n * 16 ||
        run_offsets.len != (n + 1) * 8) {
        PyErr_SetString(PyExc_ValueError, "decode: buffer sizes do not agree");
        goto done;
    }
    const int64_t *off = (const int64_t *)offsets.buf;
    for (Py_ssize_t i = 0; i <= n; i++) {
        if (off[i] < 0 || off[i] > data.len || (i > 0 && off[i] < off[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "decode: offsets out of range");
            goto done;
        }
    }
    {
        const unsigned char *s = (const unsigned char *)data.buf;
        const int64_t *hh = (const int64_t *)heights.buf, *ww = (const int64_t *)widths.buf;
        int8_t *st = (int8_t *)status.buf;
        int64_t *ar = (int64_t *)area.buf, *tot = (int64_t *)total.buf;
        int32_t *bx = (int32_t *)boxes.buf;
        uint32_t *rr = (uint32_t *)runs.buf;
        int64_t *ro = (int64_t *)run_offsets.buf;
        int64_t capacity = runs.len / 4, values = 0;
        for (Py_ssize_t q = 0; q < data.len; q++) values += !((s[q] - 48) & 0x20);
        if (values > capacity) {
            PyErr_SetString(PyExc_ValueError, "decode: runs buffer too small");
            goto done;
        }
        Py_BEGIN_ALLOW_THREADS
        int64_t pos = 0;
        ro[0] = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t m = 0;
            st[i] = (int8_t)decode_one(s, off[i], off[i + 1], hh[i] * ww[i], hh[i], rr + pos,
                                       &m, &ar[i], &tot[i], bx + 4 * i);
            pos += m;
            ro[i + 1] = pos;
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&data); PyBuffer_Release(&offsets); PyBuffer_Release(&heights);
    PyBuffer_Release(&widths); PyBuffer_Release(&status); PyBuffer_Release(&area);
    PyBuffer_Release(&total); PyBuffer_Release(&boxes); PyBuffer_Release(&runs);
    PyBuffer_Release(&run_offsets);
    return result;
}

/* Intersection of two run sequences covering the same number of pixels. */
static uint64_t intersect(const uint32_t *a, int64_t ka, const uint32_t *b, int64_t kb) {
    int64_t ia = 0, ib = 0;
    uint64_t ca = ka ? a[0] : 0, cb = kb ? b[0] : 0, inter = 0;
    int va = 0, vb = 0;
    while (ia < ka && ib < kb) {
        uint64_t c = ca < cb ? ca : cb;
        if (va && vb) inter += c;
        ca -= c;
        cb -= c;
        if (!ca) { if (++ia < ka) ca = a[ia]; va = !va; }
        if (!cb) { if (++ib < kb) cb = b[ib]; vb = !vb; }
    }
    return inter;
}

/*
 * pair_iou(det_runs, det_offsets, det_area, gt_runs, gt_offsets, gt_area, pair_det,
 *          pair_gt, crowd, out)
 *   *_runs uint32, *_offsets int64[n + 1], *_area int64[n]
 *   pair_det, pair_gt int64[P]: mask indices; crowd uint8[P]; out writable float64[P]
 */
static PyObject *pair_iou(PyObject *self, PyObject *args) {
    Py_buffer dr, doff, dar, gr, goff, gar, pd, pg, crowd, out;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*w*", &dr, &doff, &dar, &gr, &goff, &gar,
                          &pd, &pg, &crowd, &out))
        return NULL;
    Py_ssize_t P = pd.len / 8, nd = dar.len / 8, ng = gar.len / 8;
    PyObject *result = NULL;
    if (pg.len != pd.len || crowd.len != P || out.len != P * 8 || doff.len != (nd + 1) * 8 ||
        goff.len != (ng + 1) * 8) {
        PyErr_SetString(PyExc_ValueError, "pair_iou: buffer sizes do not agree");
        goto done;
    }
    {
        const uint32_t *druns = (const uint32_t *)dr.buf, *gruns = (const uint32_t *)gr.buf;
        const int64_t *dof = (const int64_t *)doff.buf, *gof = (const int64_t *)goff.buf;
        const int64_t *da = (const int64_t *)dar.buf, *ga = (const int64_t *)gar.buf;
        const int64_t *di = (const int64_t *)pd.buf, *gi = (const int64_t *)pg.buf;
        const uint8_t *cr = (const uint8_t *)crowd.buf;
        double *o = (double *)out.buf;
        Py_ssize_t dmax = dr.len / 4, gmax = gr.len / 4;
        for (Py_ssize_t p = 0; p < P; p++) {
            if (di[p] < 0 || di[p] >= nd || gi[p] < 0 || gi[p] >= ng ||
                dof[di[p] + 1] > dmax || gof[gi[p] + 1] > gmax) {
                PyErr_SetString(PyExc_ValueError, "pair_iou: index out of range");
                goto done;
            }
        }
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t p = 0; p < P; p++) {
            int64_t d = di[p], g = gi[p];
            uint64_t i = intersect(druns + dof[d], dof[d + 1] - dof[d], gruns + gof[g],
                                   gof[g + 1] - gof[g]);
            uint64_t u = cr[p] ? (uint64_t)da[d] : (uint64_t)(da[d] + ga[g]) - i;
            o[p] = i == 0 ? 0.0 : (double)i / (double)u;
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&dr); PyBuffer_Release(&doff); PyBuffer_Release(&dar);
    PyBuffer_Release(&gr); PyBuffer_Release(&goff); PyBuffer_Release(&gar);
    PyBuffer_Release(&pd); PyBuffer_Release(&pg); PyBuffer_Release(&crowd);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"decode", decode, METH_VARARGS, "Decode and check compressed RLE strings."},
    {"pair_iou", pair_iou, METH_VARARGS, "Mask IoU of (detection, GT) pairs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rle", NULL, -1, methods};

PyMODINIT_FUNC PyInit__rle(void) { return PyModule_Create(&module); }
