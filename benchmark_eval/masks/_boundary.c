/*
 * Mask boundaries in the run-length domain, for Boundary IoU (Cheng et al., CVPR 2021).
 *
 * boundary = mask AND NOT erode(mask), the erosion by a (2d+1) x (2d+1) square with every
 * pixel outside the image counting as background. This is what boundary-iou-api's
 * mask_to_boundary computes with cv2.erode(3x3, iterations=d) on the mask padded by one
 * background pixel (the pad makes the image border count as background).
 *
 * The square erosion is separable. Per mask, with M(x) the foreground row intervals of
 * column x (the mask is column-major):
 *   vertical    V(x) = M(x) with every interval shrunk by d at both ends;
 *   horizontal  E(x) = V(x-d) & ... & V(x+d), empty when x-d < 0 or x+d >= w;
 *   boundary    B(x) = M(x) minus E(x) (E(x) is inside M(x)).
 * E is a sliding-window intersection of interval lists, computed van Herk / Gil-Werman
 * style: columns are cut into blocks of k = 2d+1, S(i) is the intersection from column i to
 * the end of its block and P(j) from the start of its block to j; the window [j-2d, j]
 * spans at most two blocks, so E(j-d) = S(j-2d) & P(j): three list intersections per column
 * whatever d is. Only the columns of the mask's bounding box are visited.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int32_t s, e; } Iv; /* rows s <= y < e */

typedef struct { Iv *v; int64_t n, cap; } IvBuf;
typedef struct { int64_t *v; int64_t cap; } I64Buf;
typedef struct { uint32_t *v; int64_t n, cap; } U32Buf;

static int iv_reserve(IvBuf *b, int64_t extra) {
    if (b->n + extra <= b->cap) return 0;
    int64_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra) cap *= 2;
    Iv *v = (Iv *)realloc(b->v, (size_t)cap * sizeof(Iv));
    if (!v) return -1;
    b->v = v;
    b->cap = cap;
    return 0;
}

static int i64_reserve(I64Buf *b, int64_t need) {
    if (need <= b->cap) return 0;
    int64_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    int64_t *v = (int64_t *)realloc(b->v, (size_t)cap * sizeof(int64_t));
    if (!v) return -1;
    b->v = v;
    b->cap = cap;
    return 0;
}

static int u32_push(U32Buf *b, uint32_t x) {
    if (b->n == b->cap) {
        int64_t cap = b->cap ? 2 * b->cap : 1024;
        uint32_t *v = (uint32_t *)realloc(b->v, (size_t)cap * sizeof(uint32_t));
        if (!v) return -1;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = x;
    return 0;
}

/* Intersection of two sorted lists of disjoint intervals; out has room for na + nb. */
static int64_t intersect(const Iv *a, int64_t na, const Iv *b, int64_t nb, Iv *out) {
    int64_t i = 0, j = 0, n = 0;
    while (i < na && j < nb) {
        int32_t lo = a[i].s > b[j].s ? a[i].s : b[j].s;
        int32_t hi = a[i].e < b[j].e ? a[i].e : b[j].e;
        if (lo < hi) { out[n].s = lo; out[n].e = hi; n++; }
        if (a[i].e < b[j].e) i++; else j++;
    }
    return n;
}

/* Column-major run writer for one mask: foreground pieces arrive in pixel order. */
typedef struct {
    U32Buf *out;
    int64_t first;    /* index in out of this mask's first run */
    int64_t last_end; /* pixel index one past the last foreground piece */
    int64_t h, area;
    int64_t x0, x1, y0, y1;
    int failed;
} Writer;

static void put(Writer *wr, int64_t col, int32_t s, int32_t e) {
    int64_t start = col * wr->h + s, end = col * wr->h + e;
    if (wr->out->n > wr->first && start == wr->last_end) {
        wr->out->v[wr->out->n - 1] += (uint32_t)(end - start);
    } else if (u32_push(wr->out, (uint32_t)(start - wr->last_end)) ||
               u32_push(wr->out, (uint32_t)(end - start))) {
        wr->failed = 1;
        return;
    }
    wr->last_end = end;
    wr->area += e - s;
    if (col < wr->x0) wr->x0 = col;
    if (col > wr->x1) wr->x1 = col;
    if (s < wr->y0) wr->y0 = s;
    if (e - 1 > wr->y1) wr->y1 = e - 1;
}

/* Write m minus ee (ee inside m) for one column. */
static void put_difference(Writer *wr, int64_t col, const Iv *m, int64_t nm, const Iv *ee,
                           int64_t ne) {
    int64_t q = 0;
    for (int64_t a = 0; a < nm; a++) {
        int32_t cur = m[a].s;
        while (q < ne && ee[q].s < m[a].e) {
            if (ee[q].s > cur) put(wr, col, cur, ee[q].s);
            cur = ee[q].e;
            q++;
        }
        if (cur < m[a].e) put(wr, col, cur, m[a].e);
    }
}

typedef struct {
    IvBuf m, v, s, p, p2, e;
    I64Buf mcol, mptr, vptr, sstart, slen;
} Scratch;

static void scratch_free(Scratch *w) {
    free(w->m.v); free(w->v.v); free(w->s.v); free(w->p.v); free(w->p2.v); free(w->e.v);
    free(w->mcol.v); free(w->mptr.v); free(w->vptr.v); free(w->sstart.v); free(w->slen.v);
}

enum { OK = 0, NO_MEMORY = 1, BAD_TOTAL = 2 };

/* Foreground runs -> per-column intervals (touching pieces merged), columns in mcol. */
static int column_intervals(const uint32_t *r, int64_t nr, int64_t h, int64_t w, Scratch *sc) {
    int64_t pos = 0;
    sc->m.n = 0;
    for (int64_t j = 0; j < nr; j++) {
        int64_t len = r[j];
        if ((j & 1) && len) {
            int64_t s = pos, e = pos + len;
            if (e > h * w) return BAD_TOTAL;
            while (s < e) {
                int64_t col = s / h, row = s - col * h;
                int64_t se = e < (col + 1) * h ? e : (col + 1) * h;
                int64_t n = sc->m.n;
                if (n && sc->mcol.v[n - 1] == col && sc->m.v[n - 1].e == (int32_t)row) {
                    sc->m.v[n - 1].e = (int32_t)(row + se - s);
                } else {
                    if (iv_reserve(&sc->m, 1) || i64_reserve(&sc->mcol, n + 1)) return NO_MEMORY;
                    sc->m.v[n].s = (int32_t)row;
                    sc->m.v[n].e = (int32_t)(row + se - s);
                    sc->mcol.v[n] = col;
                    sc->m.n++;
                }
                s = se;
            }
        }
        pos += len;
    }
    return pos == h * w ? OK : BAD_TOTAL;
}

/* Boundary of one mask into wr; columns cx0 .. cx0 + L - 1 hold all foreground. */
static int boundary_one(Scratch *sc, Writer *wr, int64_t L, int64_t cx0, int64_t d) {
    int64_t n = sc->m.n, k = 2 * d + 1;
    if (i64_reserve(&sc->mptr, L + 1) || i64_reserve(&sc->vptr, L + 1) ||
        i64_reserve(&sc->sstart, L) || i64_reserve(&sc->slen, L))
        return NO_MEMORY;
    int64_t *mptr = sc->mptr.v, *vptr = sc->vptr.v;
    memset(mptr, 0, (size_t)(L + 1) * sizeof(int64_t));
    for (int64_t a = 0; a < n; a++) mptr[sc->mcol.v[a] - cx0 + 1]++;
    for (int64_t i = 0; i < L; i++) mptr[i + 1] += mptr[i];
    const Iv *M = sc->m.v;
    if (L <= 2 * d) { /* no column has its whole window inside the mask's columns */
        for (int64_t i = 0; i < L; i++)
            put_difference(wr, cx0 + i, M + mptr[i], mptr[i + 1] - mptr[i], NULL, 0);
        return OK;
    }
    /* V: vertical erosion */
    sc->v.n = 0;
    if (iv_reserve(&sc->v, n)) return NO_MEMORY;
    for (int64_t i = 0; i < L; i++) {
        vptr[i] = sc->v.n;
        for (int64_t a = mptr[i]; a < mptr[i + 1]; a++) {
            if (M[a].s + d < M[a].e - d) {
                sc->v.v[sc->v.n].s = (int32_t)(M[a].s + d);
                sc->v.v[sc->v.n].e = (int32_t)(M[a].e - d);
                sc->v.n++;
            }
        }
    }
    vptr[L] = sc->v.n;
    const Iv *V = sc->v.v;
    /* S: suffix intersections within blocks, right to left */
    int64_t *ss = sc->sstart.v, *sl = sc->slen.v;
    sc->s.n = 0;
    for (int64_t i = L - 1; i >= 0; i--) {
        int64_t nv = vptr[i + 1] - vptr[i];
        int64_t restart = (i % k == k - 1) || i == L - 1;
        int64_t need = nv + (restart ? 0 : sl[i + 1]);
        if (iv_reserve(&sc->s, need)) return NO_MEMORY;
        ss[i] = sc->s.n;
        if (restart) {
            memcpy(sc->s.v + sc->s.n, V + vptr[i], (size_t)nv * sizeof(Iv));
            sl[i] = nv;
        } else {
            sl[i] = intersect(V + vptr[i], nv, sc->s.v + ss[i + 1], sl[i + 1], sc->s.v + ss[i]);
        }
        sc->s.n += sl[i];
    }
    /* columns whose window leaves the mask's columns keep all their pixels */
    for (int64_t i = 0; i < d; i++)
        put_difference(wr, cx0 + i, M + mptr[i], mptr[i + 1] - mptr[i], NULL, 0);
    /* P: prefix intersections, left to right; E(j - d) = S(j - 2d) & P(j) */
    int64_t np = 0;
    sc->p.n = sc->p2.n = 0;
    for (int64_t j = 0; j < L; j++) {
        int64_t nv = vptr[j + 1] - vptr[j];
        if (j % k == 0) {
            if (iv_reserve(&sc->p, nv)) return NO_MEMORY;
            memcpy(sc->p.v, V + vptr[j], (size_t)nv * sizeof(Iv));
            np = nv;
        } else if (np) {
            if (iv_reserve(&sc->p2, np + nv)) return NO_MEMORY;
            np = intersect(sc->p.v, np, V + vptr[j], nv, sc->p2.v);
            IvBuf t = sc->p; sc->p = sc->p2; sc->p2 = t;
        }
        if (j < 2 * d) continue;
        int64_t i = j - d, a = j - 2 * d, ne = 0;
        if (np && sl[a] && mptr[i + 1] > mptr[i]) {
            if (iv_reserve(&sc->e, np + sl[a])) return NO_MEMORY;
            ne = intersect(sc->s.v + ss[a], sl[a], sc->p.v, np, sc->e.v);
        }
        put_difference(wr, cx0 + i, M + mptr[i], mptr[i + 1] - mptr[i], sc->e.v, ne);
    }
    for (int64_t i = L - d; i < L; i++)
        put_difference(wr, cx0 + i, M + mptr[i], mptr[i + 1] - mptr[i], NULL, 0);
    return OK;
}

/*
 * boundaries(runs, offsets, rows, heights, widths, dilation, out_offsets, out_areas,
 *            out_boxes) -> bytes
 *   runs         uint32[...]: column-major runs (background first) of all masks
 *   offsets      int64[N + 1]: mask i is runs[offsets[i]:offsets[i + 1]]
 *   rows         int64[R]: the masks to process
 *   heights, widths, dilation  int64[R]: image size and d (>= 1) per processed mask
 *   out_offsets  writable int64[R + 1], out_areas writable int64[R],
 *   out_boxes    writable int32[4R]: tight [x, y, w, h] (0s if empty)
 * Returns the boundary runs of the R masks (uint32, concatenated, canonical: no zero run
 * except a leading background one, no trailing zero run).
 */
static PyObject *boundaries(PyObject *self, PyObject *args) {
    Py_buffer runs, offsets, rows, heights, widths, dil, ooff, oarea, obox;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*w*w*w*", &runs, &offsets, &rows, &heights,
                          &widths, &dil, &ooff, &oarea, &obox))
        return NULL;
    PyObject *result = NULL;
    U32Buf out = {NULL, 0, 0};
    Scratch sc;
    memset(&sc, 0, sizeof(sc));
    Py_ssize_t R = rows.len / 8, N = offsets.len / 8 - 1;
    const int64_t *off = (const int64_t *)offsets.buf, *rw = (const int64_t *)rows.buf;
    const int64_t *hh = (const int64_t *)heights.buf, *ww = (const int64_t *)widths.buf;
    const int64_t *dd = (const int64_t *)dil.buf;
    int64_t *oo = (int64_t *)ooff.buf, *oa = (int64_t *)oarea.buf;
    int32_t *ob = (int32_t *)obox.buf;
    const uint32_t *rr = (const uint32_t *)runs.buf;
    if (N < 0 || heights.len != rows.len || widths.len != rows.len || dil.len != rows.len ||
        ooff.len != (R + 1) * 8 || oarea.len != rows.len || obox.len != R * 16) {
        PyErr_SetString(PyExc_ValueError, "boundaries: buffer sizes do not agree");
        goto done;
    }
    for (Py_ssize_t q = 0; q < R; q++) {
        if (rw[q] < 0 || rw[q] >= N || off[rw[q]] < 0 || off[rw[q]] > off[rw[q] + 1] ||
            off[rw[q] + 1] > runs.len / 4 || hh[q] < 0 || ww[q] < 0 || dd[q] < 1 ||
            hh[q] > INT32_MAX / 2 || ww[q] > INT32_MAX ||
            hh[q] * ww[q] > UINT32_MAX) {
            PyErr_SetString(PyExc_ValueError, "boundaries: mask index, size or d out of range");
            goto done;
        }
    }
    int status = OK;
    Py_ssize_t bad = -1;
    Py_BEGIN_ALLOW_THREADS
    oo[0] = 0;
    for (Py_ssize_t q = 0; q < R && status == OK; q++) {
        int64_t h = hh[q], w = ww[q], d = dd[q];
        Writer wr = {&out, out.n, 0, h, 0, INT64_MAX, -1, INT64_MAX, -1, 0};
        if (h * w > 0) {
            status = column_intervals(rr + off[rw[q]], off[rw[q] + 1] - off[rw[q]], h, w, &sc);
            if (status == OK && sc.m.n) {
                int64_t cx0 = sc.mcol.v[0], L = sc.mcol.v[sc.m.n - 1] - cx0 + 1;
                status = boundary_one(&sc, &wr, L, cx0, d);
            }
            if (status == OK && wr.failed) status = NO_MEMORY;
            if (status == OK && wr.last_end < h * w &&
                u32_push(&out, (uint32_t)(h * w - wr.last_end)))
                status = NO_MEMORY;
        } else if (status == OK && off[rw[q] + 1] > off[rw[q]]) {
            /* an empty image: only zero runs are possible */
            for (int64_t j = off[rw[q]]; j < off[rw[q] + 1]; j++)
                if (rr[j]) status = BAD_TOTAL;
        }
        if (status != OK) { bad = q; break; }
        oo[q + 1] = out.n;
        oa[q] = wr.area;
        if (wr.x1 < 0) { ob[4 * q] = ob[4 * q + 1] = ob[4 * q + 2] = ob[4 * q + 3] = 0; }
        else {
            ob[4 * q] = (int32_t)wr.x0; ob[4 * q + 1] = (int32_t)wr.y0;
            ob[4 * q + 2] = (int32_t)(wr.x1 - wr.x0 + 1);
            ob[4 * q + 3] = (int32_t)(wr.y1 - wr.y0 + 1);
        }
    }
    Py_END_ALLOW_THREADS
    if (status == NO_MEMORY) {
        PyErr_NoMemory();
    } else if (status == BAD_TOTAL) {
        PyErr_Format(PyExc_ValueError, "boundaries: the runs of mask %zd do not cover h * w",
                     (Py_ssize_t)rw[bad]);
    } else {
        result = PyBytes_FromStringAndSize((const char *)out.v, (Py_ssize_t)(out.n * 4));
    }
done:
    free(out.v);
    scratch_free(&sc);
    PyBuffer_Release(&runs); PyBuffer_Release(&offsets); PyBuffer_Release(&rows);
    PyBuffer_Release(&heights); PyBuffer_Release(&widths); PyBuffer_Release(&dil);
    PyBuffer_Release(&ooff); PyBuffer_Release(&oarea); PyBuffer_Release(&obox);
    return result;
}

static PyMethodDef methods[] = {
    {"boundaries", boundaries, METH_VARARGS, "Inner boundary bands of run-length masks."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_boundary", NULL, -1, methods};

PyMODINIT_FUNC PyInit__boundary(void) { return PyModule_Create(&module); }
