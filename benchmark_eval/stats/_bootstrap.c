/*
 * Bootstrap kernel of the COCO AP family (benchmark_eval/stats/coco.py).
 *
 * area_precision: for every replicate b, the mean over recall thresholds of the
 * interpolated precision of the IoU threshold columns of one (category, area range,
 * maxDets), from the non-ignored detections (canonical order) weighted by how often
 * replicate b draws each one's image. The detections counted at the first threshold are
 * the base (one prefix sum per replicate); the other thresholds differ from it only at
 * matched detections (corrections). Precision is evaluated at TPs only
 * (it peaks there), as tp / (fp + tp + eps) on the integer counts (pycocotools' float
 * expression: fp + tp is the count of non-ignored detections seen, exactly); the
 * interpolated precision at recall threshold r is the largest precision from the first
 * TP whose weighted count reaches need[b, r], 0 past the last TP.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <stdint.h>
#include <stdlib.h>

/* Mean over the R thresholds of the interpolated precision of one column: best[0..p)
 * holds the precision at each TP, tps[0..p) the weighted TP count there. */
static double column_mean(double *best, const int64_t *tps, Py_ssize_t p, const int64_t *want,
                          Py_ssize_t n_thr) {
    best[p] = 0.0;
    for (Py_ssize_t i = p - 1; i >= 0; i--)
        if (best[i + 1] > best[i]) best[i] = best[i + 1];
    double sum = 0.0;
    Py_ssize_t i = 0;
    for (Py_ssize_t r = 0; r < n_thr; r++) {
        while (i < p && tps[i] < want[r]) i++;
        sum += best[i];
    }
    return sum / (double)n_thr;
}

/*
 * area_precision(weights, n_units, base, tp_at, tp_unit, tp_base, tp_diff, diff_at,
 *                diff_unit, diff_sign, need, n_thr, out)
 * One (category, area range) and its T threshold columns, for every replicate b:
 *   weights: int32 (B, n_units) C-contiguous, replicate draws per image.
 *   base: int64 image of each base detection (non-ignored at the first threshold).
 *   tp_at: int64 (T + 1) offsets of each column's TPs in tp_unit / tp_base / tp_diff:
 *     their image, the number of base detections up to them, the number of the column's
 *     corrections up to them.
 *   diff_at: int64 (T + 1) offsets of each column's corrections in diff_unit / diff_sign
 *     (+1 counted in this column only, -1 in the base only).
 *   need: int64 (B, R) C-contiguous, nondecreasing along R.
 *   out: writable float64 (B, T).
 */
static PyObject *area_precision(PyObject *self, PyObject *args) {
    Py_buffer b_w, b_base, b_at, b_tu, b_tb, b_td, b_dat, b_du, b_ds, b_need, b_out;
    Py_ssize_t n_units, n_thr;
    if (!PyArg_ParseTuple(args, "y*ny*y*y*y*y*y*y*y*y*nw*", &b_w, &n_units, &b_base, &b_at,
                          &b_tu, &b_tb, &b_td, &b_dat, &b_du, &b_ds, &b_need, &n_thr, &b_out))
        return NULL;
    const int32_t *w = b_w.buf;
    const int64_t *base = b_base.buf, *tp_at = b_at.buf, *tp_unit = b_tu.buf;
    const int64_t *tp_base = b_tb.buf, *tp_diff = b_td.buf, *diff_at = b_dat.buf;
    const int64_t *diff_unit = b_du.buf, *diff_sign = b_ds.buf, *need = b_need.buf;
    double *out = b_out.buf;
    Py_ssize_t n_base = b_base.len / 8, n_col = b_at.len / 8 - 1;
    Py_ssize_t n_rep = b_out.len / (Py_ssize_t)sizeof(double) / (n_col ? n_col : 1);
    Py_ssize_t max_p = 0, max_d = 0;
    for (Py_ssize_t t = 0; t < n_col; t++) {
        if (tp_at[t + 1] - tp_at[t] > max_p) max_p = tp_at[t + 1] - tp_at[t];
        if (diff_at[t + 1] - diff_at[t] > max_d) max_d = diff_at[t + 1] - diff_at[t];
    }
    PyObject *result = NULL;
    int64_t *prefix = malloc(sizeof(int64_t) * (size_t)(n_base + 1));
    int64_t *dpre = malloc(sizeof(int64_t) * (size_t)(max_d + 1));
    int64_t *tps = malloc(sizeof(int64_t) * (size_t)(max_p + 1));
    double *best = malloc(sizeof(double) * (size_t)(max_p + 1));
    if (!prefix || !dpre || !tps || !best) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t b = 0; b < n_rep; b++) {
        const int32_t *row = w + b * n_units;
        prefix[0] = 0;
        for (Py_ssize_t i = 0; i < n_base; i++) prefix[i + 1] = prefix[i] + row[base[i]];
        for (Py_ssize_t t = 0; t < n_col; t++) {
            Py_ssize_t p = tp_at[t + 1] - tp_at[t];
            if (!p) {
                out[b * n_col + t] = 0.0;
                continue;
            }
            Py_ssize_t d0 = diff_at[t], nd = diff_at[t + 1] - d0;
            dpre[0] = 0;
            for (Py_ssize_t i = 0; i < nd; i++)
                dpre[i + 1] = dpre[i] + diff_sign[d0 + i] * row[diff_unit[d0 + i]];
            int64_t tp = 0;
            for (Py_ssize_t i = 0, j = tp_at[t]; i < p; i++, j++) {
                tp += row[tp_unit[j]];
                int64_t seen = prefix[tp_base[j]] + dpre[tp_diff[j]];
                tps[i] = tp;
                best[i] = (double)tp / ((double)seen + DBL_EPSILON);
            }
            out[b * n_col + t] = column_mean(best, tps, p, need + b * n_thr, n_thr);
        }
    }
    Py_INCREF(Py_None);
    result = Py_None;
done:
    free(prefix);
    free(dpre);
    free(tps);
    free(best);
    Py_buffer *all[] = {&b_w, &b_base, &b_at, &b_tu, &b_tb, &b_td, &b_dat, &b_du, &b_ds,
                        &b_need, &b_out};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) PyBuffer_Release(all[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"area_precision", area_precision, METH_VARARGS,
     "Mean interpolated precision of one category and area range per bootstrap replicate."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_bootstrap", NULL, -1, methods};

PyMODINIT_FUNC PyInit__bootstrap(void) { return PyModule_Create(&module); }
