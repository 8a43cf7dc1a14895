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
#include <dlfcn.h>
#include <stdint.h>

#define MAX_GROUPS 6

enum { OK = 0, BAD_CHAR = 1, TRUNCATED = 2, NEGATIVE = 3, WRONG_TOTAL = 4 };

/* Foreground area and the pycocotools rleToBbox box [x, y, w, h] of decoded runs: a
 * foreground run that crosses a column makes the box span the full height. */
static void describe(const uint32_t *runs, int64_t m, int64_t h, int64_t *area_out,
                     int32_t *box) {
    int64_t area = 0, x0 = INT32_MAX, x1 = -1, y0 = INT32_MAX, y1 = -1;
    int64_t col = 0, row = 0; /* (column, row) of the next pixel */
    for (int64_t j = 0; j < m && h > 0; j++) {
        int64_t x = runs[j];
        if (x == 0) continue;
        int64_t last_row = row + x - 1, last_col = col;
        if (last_row >= h) { last_col += last_row / h; last_row %= h; }
        if (j & 1) {
            if (col < x0) x0 = col;
            if (last_col > x1) x1 = last_col;
            if (last_col != col) { y0 = 0; y1 = h - 1; }
            else { if (row < y0) y0 = row; if (last_row > y1) y1 = last_row; }
            area += x;
        }
        row = last_row + 1;
        col = last_col;
        if (row == h) { row = 0; col++; }
    }
    *area_out = area;
    if (x1 < 0) { box[0] = box[1] = box[2] = box[3] = 0; }
    else { box[0] = (int32_t)x0; box[1] = (int32_t)y0;
           box[2] = (int32_t)(x1 - x0 + 1); box[3] = (int32_t)(y1 - y0 + 1); }
}

/* Decode one string into runs; returns a status code. */
static int decode_one(const unsigned char *s, Py_ssize_t p, Py_ssize_t end, int64_t pixels,
                      uint32_t *runs, int64_t *n_runs, int64_t *total_out) {
    int64_t prev2 = 0, prev1 = 0, total = 0, m = 0;
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
        total += x;
        runs[m] = (uint32_t)x;
        prev2 = prev1;
        prev1 = x;
        m++;
    }
    if (total != pixels) status = WRONG_TOTAL;
out:
    *n_runs = m;
    *total_out = total;
    return status;
}

/*
 * decode(data, offsets, heights, widths, store, status, area, total, boxes, run_offsets)
 *   -> bytes
 *   data         bytes-like: all strings concatenated
 *   offsets      int64[n + 1]: string i is data[offsets[i]:offsets[i + 1]]
 *   heights      int64[n], widths int64[n]
 *   store        uint8[n] (1: keep the runs of mask i) or empty (keep every mask's runs)
 *   status       writable int8[n]: 0 ok, 1 bad char, 2 truncated, 3 negative run,
 *                4 runs do not cover h * w
 *   area, total  writable int64[n]: foreground pixels, pixels covered by all runs
 *   boxes        writable int32[n * 4]: pycocotools rleToBbox [x, y, w, h] (0s if empty)
 *   run_offsets  writable int64[n + 1]: kept runs of mask i are
 *                result[run_offsets[i]:run_offsets[i + 1]] (empty when not stored)
 * Every mask is decoded and checked; only stored masks' runs are returned (uint32).
 */
static PyObject *decode(PyObject *self, PyObject *args) {
    Py_buffer data, offsets, heights, widths, store, status, area, total, boxes, run_offsets;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*w*w*w*w*w*", &data, &offsets, &heights, &widths,
                          &store, &status, &area, &total, &boxes, &run_offsets))
        return NULL;
    Py_ssize_t n = heights.len / (Py_ssize_t)sizeof(int64_t);
    PyObject *result = NULL;
    uint32_t *scratch = NULL;
    if (offsets.len != (n + 1) * 8 || widths.len != heights.len || status.len != n ||
        area.len != heights.len || total.len != heights.len || boxes.len != n * 16 ||
        run_offsets.len != (n + 1) * 8 || (store.len != 0 && store.len != n)) {
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
        const uint8_t *keep = store.len ? (const uint8_t *)store.buf : NULL;
        /* room for the stored runs: one per value, i.e. per char without the 0x20 bit */
        int64_t capacity = 0, longest = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (off[i + 1] - off[i] > longest) longest = off[i + 1] - off[i];
            if (keep && !keep[i]) continue;
            for (Py_ssize_t q = off[i]; q < off[i + 1]; q++) capacity += !((s[q] - 48) & 0x20);
        }
        result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(capacity * 4));
        scratch = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)(longest + 1));
        if (!result || !scratch) { Py_CLEAR(result); PyErr_NoMemory(); goto done; }
        const int64_t *hh = (const int64_t *)heights.buf, *ww = (const int64_t *)widths.buf;
        int8_t *st = (int8_t *)status.buf;
        int64_t *ar = (int64_t *)area.buf, *tot = (int64_t *)total.buf;
        int32_t *bx = (int32_t *)boxes.buf;
        uint32_t *rr = (uint32_t *)PyBytes_AS_STRING(result);
        int64_t *ro = (int64_t *)run_offsets.buf;
        Py_BEGIN_ALLOW_THREADS
        int64_t pos = 0;
        ro[0] = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            int kept = !keep || keep[i];
            uint32_t *dst = kept ? rr + pos : scratch;
            int64_t m = 0;
            st[i] = (int8_t)decode_one(s, off[i], off[i + 1], hh[i] * ww[i], dst, &m, &tot[i]);
            describe(dst, m, hh[i], &ar[i], bx + 4 * i);
            if (kept) pos += m;
            ro[i + 1] = pos;
        }
        Py_END_ALLOW_THREADS
    }
done:
    free(scratch);
    PyBuffer_Release(&data); PyBuffer_Release(&offsets); PyBuffer_Release(&heights);
    PyBuffer_Release(&widths); PyBuffer_Release(&store); PyBuffer_Release(&status);
    PyBuffer_Release(&area); PyBuffer_Release(&total); PyBuffer_Release(&boxes);
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
                dof[di[p]] < 0 || dof[di[p]] > dof[di[p] + 1] || dof[di[p] + 1] > dmax ||
                gof[gi[p]] < 0 || gof[gi[p]] > gof[gi[p] + 1] || gof[gi[p] + 1] > gmax) {
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

/*
 * pycocotools' own polygon rasteriser, called in place: bind() looks up rleFrPoly /
 * rleMerge / rleFree in the pycocotools._mask extension that Python already loaded, so
 * masks are pycocotools' by construction, without its per-polygon Python overhead.
 * The struct mirrors maskApi.h's RLE (siz = unsigned long, uint = unsigned int).
 */
typedef struct { unsigned long h, w, m; unsigned int *cnts; } CocoRle;
static void (*coco_frpoly)(CocoRle *, const double *, unsigned long, unsigned long,
                           unsigned long) = NULL;
static void (*coco_merge)(const CocoRle *, CocoRle *, unsigned long, int) = NULL;
static void (*coco_free)(CocoRle *) = NULL;

static PyObject *bind(PyObject *self, PyObject *args) {
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
    void *lib = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (!lib) lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) Py_RETURN_FALSE;
    coco_frpoly = dlsym(lib, "rleFrPoly");
    coco_merge = dlsym(lib, "rleMerge");
    coco_free = dlsym(lib, "rleFree");
    if (!coco_frpoly || !coco_merge || !coco_free) {
        coco_frpoly = NULL; coco_merge = NULL; coco_free = NULL;
        Py_RETURN_FALSE;
    }
    Py_RETURN_TRUE;
}

/*
 * rasterize(coords, part_ptr, obj_ptr, heights, widths, run_offsets, area, boxes) -> bytes
 *   coords       float64[]: x0, y0, x1, y1, ... of every polygon part
 *   part_ptr     int64[P + 1]: part p is coords[part_ptr[p]:part_ptr[p + 1]]
 *   obj_ptr      int64[N + 1]: object i is parts obj_ptr[i]:obj_ptr[i + 1] (>= 1 part)
 *   heights, widths  int64[N]
 *   run_offsets  writable int64[N + 1]; area writable int64[N]; boxes writable int32[4N]
 * Returns the runs of all objects (uint32, concatenated), as COCO.annToRLE makes them:
 * rleFrPoly per part, rleMerge (union) of the parts of multi-part objects.
 */
static PyObject *rasterize(PyObject *self, PyObject *args) {
    Py_buffer coords, part_ptr, obj_ptr, heights, widths, run_offsets, area, boxes;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*w*w*w*", &coords, &part_ptr, &obj_ptr, &heights,
                          &widths, &run_offsets, &area, &boxes))
        return NULL;
    PyObject *result = NULL;
    CocoRle *objs = NULL;
    Py_ssize_t n = heights.len / 8, nparts = part_ptr.len / 8 - 1;
    const double *xy = (const double *)coords.buf;
    const int64_t *pp = (const int64_t *)part_ptr.buf, *op = (const int64_t *)obj_ptr.buf;
    const int64_t *hh = (const int64_t *)heights.buf, *ww = (const int64_t *)widths.buf;
    int64_t *ro = (int64_t *)run_offsets.buf, *ar = (int64_t *)area.buf;
    int32_t *bx = (int32_t *)boxes.buf;
    if (!coco_frpoly) {
        PyErr_SetString(PyExc_RuntimeError, "rasterize: pycocotools is not bound");
        goto done;
    }
    if (obj_ptr.len != (n + 1) * 8 || widths.len != heights.len || run_offsets.len != (n + 1) * 8
        || area.len != heights.len || boxes.len != n * 16 || nparts < 0 || op[0] != 0 ||
        op[n] != nparts || pp[0] != 0 || pp[nparts] * 8 != coords.len) {
        PyErr_SetString(PyExc_ValueError, "rasterize: buffer sizes do not agree");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (op[i + 1] <= op[i]) {
            PyErr_SetString(PyExc_ValueError, "rasterize: an object has no polygon");
            goto done;
        }
    for (Py_ssize_t p = 0; p < nparts; p++)
        if (pp[p + 1] < pp[p] || (pp[p + 1] - pp[p]) % 2) {
            PyErr_SetString(PyExc_ValueError, "rasterize: bad part offsets");
            goto done;
        }
    objs = (CocoRle *)calloc((size_t)n + 1, sizeof(CocoRle));
    if (!objs) { PyErr_NoMemory(); goto done; }
    int64_t total = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t k = op[i + 1] - op[i];
        if (k == 1) {
            int64_t p = op[i];
            coco_frpoly(&objs[i], xy + pp[p], (unsigned long)((pp[p + 1] - pp[p]) / 2),
                        (unsigned long)hh[i], (unsigned long)ww[i]);
        } else {
            CocoRle *parts = (CocoRle *)calloc((size_t)k, sizeof(CocoRle));
            for (int64_t j = 0; parts && j < k; j++) {
                int64_t p = op[i] + j;
                coco_frpoly(&parts[j], xy + pp[p], (unsigned long)((pp[p + 1] - pp[p]) / 2),
                            (unsigned long)hh[i], (unsigned long)ww[i]);
            }
            if (parts) {
                coco_merge(parts, &objs[i], (unsigned long)k, 0);
                for (int64_t j = 0; j < k; j++) coco_free(&parts[j]);
                free(parts);
            }
        }
        total += (int64_t)objs[i].m;
    }
    Py_END_ALLOW_THREADS
    result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(total * 4));
    if (result) {
        uint32_t *out = (uint32_t *)PyBytes_AS_STRING(result);
        int64_t pos = 0;
        ro[0] = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            int64_t m = (int64_t)objs[i].m;
            for (int64_t j = 0; j < m; j++) out[pos + j] = objs[i].cnts[j];
            describe(out + pos, m, hh[i], &ar[i], bx + 4 * i);
            pos += m;
            ro[i + 1] = pos;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) coco_free(&objs[i]);
done:
    free(objs);
    PyBuffer_Release(&coords); PyBuffer_Release(&part_ptr); PyBuffer_Release(&obj_ptr);
    PyBuffer_Release(&heights); PyBuffer_Release(&widths); PyBuffer_Release(&run_offsets);
    PyBuffer_Release(&area); PyBuffer_Release(&boxes);
    return result;
}

static PyMethodDef methods[] = {
    {"bind", bind, METH_VARARGS, "Bind pycocotools' rasteriser from its extension path."},
    {"rasterize", rasterize, METH_VARARGS, "Polygons to runs with pycocotools' rasteriser."},
    {"decode", decode, METH_VARARGS, "Decode and check compressed RLE strings."},
    {"pair_iou", pair_iou, METH_VARARGS, "Mask IoU of (detection, GT) pairs."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rle", NULL, -1, methods};

PyMODINIT_FUNC PyInit__rle(void) { return PyModule_Create(&module); }
