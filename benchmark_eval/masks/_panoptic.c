/*
 * Panoptic pair counting: how many pixels every (ground-truth segment id, predicted segment
 * id) pair shares, read straight from two decoded RGB(A) PNG buffers in one pass.
 *
 * Segment ids are COCO panoptic's R + 256 G + 256^2 B (24 bits); a pair is keyed as
 * gt_id * 2^24 + pred_id, the key panopticapi builds as gt * OFFSET + pred. Consecutive
 * pixels usually repeat the previous pair, so runs are counted first and a small
 * open-addressing hash table is touched once per run. The keys come out sorted, with their
 * pixel counts: exactly np.unique(gt * 2^24 + pred, return_counts=True).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY UINT64_MAX /* keys are < 2^48 */

typedef struct {
    uint64_t *keys;
    int64_t *counts;
    size_t mask; /* capacity - 1, capacity a power of two */
    size_t used;
} table;

static size_t slot_of(uint64_t key, size_t mask) {
    return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
}

static int table_init(table *t, size_t capacity) {
    t->keys = (uint64_t *)malloc(capacity * sizeof(uint64_t));
    t->counts = (int64_t *)malloc(capacity * sizeof(int64_t));
    if (!t->keys || !t->counts) { free(t->keys); free(t->counts); return -1; }
    memset(t->keys, 0xFF, capacity * sizeof(uint64_t));
    t->mask = capacity - 1;
    t->used = 0;
    return 0;
}

static void put(table *t, uint64_t key, int64_t n) {
    size_t i = slot_of(key, t->mask);
    while (t->keys[i] != EMPTY && t->keys[i] != key) i = (i + 1) & t->mask;
    if (t->keys[i] == EMPTY) { t->keys[i] = key; t->counts[i] = 0; t->used++; }
    t->counts[i] += n;
}

static int add(table *t, uint64_t key, int64_t n) {
    if (2 * (t->used + 1) > t->mask + 1) { /* keep the load under one half */
        table bigger;
        if (table_init(&bigger, 2 * (t->mask + 1))) return -1;
        for (size_t i = 0; i <= t->mask; i++)
            if (t->keys[i] != EMPTY) put(&bigger, t->keys[i], t->counts[i]);
        free(t->keys); free(t->counts);
        *t = bigger;
    }
    put(t, key, n);
    return 0;
}

#define STEP 4 /* pixels skipped at once inside a run */

/* Whether the STEP pixels at q equal the pixel before them (c bytes per pixel): the bytes
 * are then periodic with period c, i.e. q[k] == q[k - c] for k < STEP * c. */
static int same_as_previous(const unsigned char *q, int c) {
    return c == 3 ? memcmp(q, q - 3, STEP * 3) == 0 : memcmp(q, q - 4, STEP * 4) == 0;
}

/* little-endian value of 4 bytes loaded with memcpy */
static uint32_t le32(uint32_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap32(v);
#else
    return v;
#endif
}

static int by_key(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/*
 * pair_counts(gt, gt_channels, pred, pred_channels) -> (keys: bytes, counts: bytes)
 *   gt, pred: C-contiguous uint8 pixel buffers with the same number of pixels, 3 (RGB) or
 *   4 (RGBA, alpha ignored) bytes per pixel. Returns uint64 keys (ascending) and int64
 *   counts as raw bytes.
 */
static PyObject *pair_counts(PyObject *self, PyObject *args) {
    Py_buffer gt, pred;
    int gc, pc;
    if (!PyArg_ParseTuple(args, "y*iy*i", &gt, &gc, &pred, &pc)) return NULL;
    PyObject *result = NULL;
    table t = {NULL, NULL, 0, 0};
    uint64_t *pairs = NULL;
    if ((gc != 3 && gc != 4) || (pc != 3 && pc != 4) || gt.len % gc || pred.len % pc ||
        gt.len / gc != pred.len / pc) {
        PyErr_SetString(PyExc_ValueError, "pair_counts: buffers are not RGB(A) images of"
                                          " the same size");
        goto done;
    }
    if (table_init(&t, 256)) { PyErr_NoMemory(); goto done; }
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    const unsigned char *g = (const unsigned char *)gt.buf, *p = (const unsigned char *)pred.buf;
    Py_ssize_t n = gt.len / gc;
    uint64_t prev = EMPTY;
    int64_t run = 0;
    for (Py_ssize_t i = 0; i < n; i++, g += gc, p += pc) {
        /* fast path inside a run: the next STEP pixels of both images repeat the last one */
        while (i > 0 && i + STEP <= n && same_as_previous(g, gc) && same_as_previous(p, pc)) {
            run += STEP;
            i += STEP;
            g += STEP * gc;
            p += STEP * pc;
        }
        if (i >= n) break;
        uint32_t gv, pv;
        if (i + 1 < n) { /* 4-byte loads; the 4th byte (next pixel or alpha) is masked off */
            memcpy(&gv, g, 4);
            memcpy(&pv, p, 4);
            gv = le32(gv) & 0xFFFFFFu;
            pv = le32(pv) & 0xFFFFFFu;
        } else {
            gv = (uint32_t)g[0] | (uint32_t)g[1] << 8 | (uint32_t)g[2] << 16;
            pv = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
        }
        uint64_t key = (uint64_t)gv << 24 | pv;
        if (key == prev) { run++; continue; }
        if (run && add(&t, prev, run)) { failed = 1; break; }
        prev = key;
        run = 1;
    }
    if (!failed && run && add(&t, prev, run)) failed = 1;
    Py_END_ALLOW_THREADS
    if (failed) { PyErr_NoMemory(); goto done; }
    /* sort (key, count) pairs by key: pack them as [key, count] rows */
    pairs = (uint64_t *)malloc(2 * (t.used ? t.used : 1) * sizeof(uint64_t));
    if (!pairs) { PyErr_NoMemory(); goto done; }
    size_t m = 0;
    for (size_t i = 0; i <= t.mask; i++)
        if (t.keys[i] != EMPTY) { pairs[2 * m] = t.keys[i]; pairs[2 * m + 1] = (uint64_t)t.counts[i]; m++; }
    qsort(pairs, m, 2 * sizeof(uint64_t), by_key);
    PyObject *keys = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(m * 8));
    PyObject *counts = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(m * 8));
    if (keys && counts) {
        uint64_t *k = (uint64_t *)PyBytes_AS_STRING(keys);
        uint64_t *c = (uint64_t *)PyBytes_AS_STRING(counts);
        for (size_t i = 0; i < m; i++) { k[i] = pairs[2 * i]; c[i] = pairs[2 * i + 1]; }
        result = PyTuple_Pack(2, keys, counts);
    }
    Py_XDECREF(keys);
    Py_XDECREF(counts);
done:
    free(t.keys); free(t.counts); free(pairs);
    PyBuffer_Release(&gt); PyBuffer_Release(&pred);
    return result;
}

static PyMethodDef methods[] = {
    {"pair_counts", pair_counts, METH_VARARGS,
     "Sorted (gt_id << 24 | pred_id) keys and pixel counts of two RGB(A) buffers."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_panoptic", NULL, -1, methods};

PyMODINIT_FUNC PyInit__panoptic(void) { return PyModule_Create(&module); }
