/*
 * Decode pycocotools compressed RLE strings and check them, one pass per string.
 *
 * The string format is maskApi.c rleToString's: each run count is written as 5-bit groups,
 * least significant first, each char = group + 48, bit 0x20 = "more groups follow",
 * bit 0x10 of the last group = sign; counts from the fourth on are stored as the
 * difference to the count two places back. pycocotools decodes without checking; a string
 * whose runs do not cover h*w pixels makes its rleIou loop forever, so we check first.
 *
 * check(data, offsets, pixels, status, area, total)
 *   data     bytes-like: all strings concatenated
 *   offsets  int64[n + 1]: string i is data[offsets[i]:offsets[i + 1]]
 *   pixels   int64[n]: h * w per mask
 *   status   writable int8[n]: 0 ok, 1 bad character, 2 truncated or overlong value,
 *            3 negative run, 4 runs do not cover h * w pixels
 *   area     writable int64[n]: foreground pixels (sum of odd-position runs)
 *   total    writable int64[n]: pixels covered by all runs
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define MAX_GROUPS 6

static int decode_one(const unsigned char *s, Py_ssize_t p, Py_ssize_t end, int64_t pixels,
                      int64_t *area_out, int64_t *total_out) {
    int64_t prev1 = 0, prev2 = 0, total = 0, area = 0;
    Py_ssize_t m = 0;
    while (p < end) {
        int64_t x = 0;
        int k = 0, more = 1;
        while (more) {
            if (p >= end || k >= MAX_GROUPS) { *area_out = area; *total_out = total; return 2; }
            int c = (int)s[p] - 48;
            if (c < 0 || c > 63) { *area_out = area; *total_out = total; return 1; }
            x |= (int64_t)(c & 0x1f) << (5 * k);
            more = c & 0x20;
            p++;
            k++;
            if (!more && (c & 0x10)) x -= (int64_t)1 << (5 * k);
        }
        if (m > 2) x += prev2;
        if (x < 0) { *area_out = area; *total_out = total; return 3; }
        total += x;
        if (m & 1) area += x;
        prev2 = prev1;
        prev1 = x;
        m++;
    }
    *area_out = area;
    *total_out = total;
    return total == pixels ? 0 : 4;
}

static PyObject *check(PyObject *self, PyObject *args) {
    Py_buffer data, offsets, pixels, status, area, total;
    if (!PyArg_ParseTuple(args, "y*y*y*w*w*w*", &data, &offsets, &pixels, &status, &area,
                          &total))
        return NULL;
    Py_ssize_t n = pixels.len / (Py_ssize_t)sizeof(int64_t);
    PyObject *result = NULL;
    if (offsets.len != (n + 1) * (Py_ssize_t)sizeof(int64_t) || status.len != n ||
        area.len != pixels.len || total.len != pixels.len) {
        PyErr_SetString(PyExc_ValueError, "buffer sizes do not agree");
        goto done;
    }
    const unsigned char *s = (const unsigned char *)data.buf;
    const int64_t *off = (const int64_t *)offsets.buf;
    const int64_t *pix = (const int64_t *)pixels.buf;
    int8_t *st = (int8_t *)status.buf;
    int64_t *ar = (int64_t *)area.buf;
    int64_t *tot = (int64_t *)total.buf;
    for (Py_ssize_t i = 0; i <= n; i++) {
        if (off[i] < 0 || off[i] > data.len || (i > 0 && off[i] < off[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "offsets out of range");
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        st[i] = (int8_t)decode_one(s, off[i], off[i + 1], pix[i], &ar[i], &tot[i]);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&pixels);
    PyBuffer_Release(&status);
    PyBuffer_Release(&area);
    PyBuffer_Release(&total);
    return result;
}

static PyMethodDef methods[] = {
    {"check", check, METH_VARARGS, "Decode and check compressed RLE strings."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rlecheck", NULL, -1, methods};

PyMODINIT_FUNC PyInit__rlecheck(void) { return PyModule_Create(&module); }
