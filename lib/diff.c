/*
 * diff.c: unified diff of two texts, formatted like GNU "diff -u"
 *
 * Lines are compared as whole byte strings including their newline, so
 * a last line without one differs from the same line with one, as in
 * GNU diff.  The edit script comes from Myers' O(ND) algorithm in its
 * divide-and-conquer form: the "middle snake" search needs two vectors
 * of O(N+M) integers and nothing per edit step, so memory stays linear
 * even when the texts have little in common.  Before that, lines that
 * occur in only one of the texts are set aside as changed: no common
 * subsequence can use them, and dropping them keeps D (and so the run
 * time) small when a block is replaced wholesale.  The script is a
 * shortest one unless a single search passes DIFF_MAX_COST steps.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DIFF_CONTEXT 3

/*
 * Edit steps one middle-snake search may take before it settles for a
 * good split point instead of an optimal one (GNU diff has the same
 * kind of limit).  Texts need thousands of differing lines to get
 * there; below it the script is minimal, beyond it the run time stays
 * near O((N+M) * DIFF_MAX_COST) on any input.
 */
#define DIFF_MAX_COST 4096

struct diff_line {
    const char *text;
    size_t len;              /* including the '\n', when there is one */
};

/* One side of the comparison. */
struct diff_side {
    struct diff_line *lines;
    size_t nlines;
    size_t *ids;             /* equal lines have equal ids */
    unsigned char *changed;  /* per line: deleted (a) or inserted (b) */
};

/* Splits text into lines; returns 0, or -1 when out of memory. */
static int
diff_split(const char *text, size_t len, struct diff_side *side)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            n++;
    if (len > 0 && text[len - 1] != '\n')
        n++;
    side->nlines = n;
    /* +1 so that empty texts still get non-NULL arrays */
    side->lines = calloc(n + 1, sizeof(*side->lines));
    side->ids = calloc(n + 1, sizeof(*side->ids));
    side->changed = calloc(n + 1, 1);
    if (!side->lines || !side->ids || !side->changed)
        return -1;
    size_t start = 0, k = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            side->lines[k].text = text + start;
            side->lines[k].len = i + 1 - start;
            k++;
            start = i + 1;
        }
    }
    if (start < len) {
        side->lines[k].text = text + start;
        side->lines[k].len = len - start;
    }
    return 0;
}

static void
diff_side_clear(struct diff_side *side)
{
    free(side->lines);
    free(side->ids);
    free(side->changed);
}

static uint64_t
diff_hash(const struct diff_line *line)
{
    uint64_t h = 14695981039346656037ULL;   /* FNV-1a */
    for (size_t i = 0; i < line->len; i++) {
        h ^= (unsigned char)line->text[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/*
 * Gives every distinct line of a and b a small id, so the comparison
 * loops compare integers, and counts how often each id occurs in each
 * text (*count_a and *count_b, new arrays the caller frees, indexed by
 * id).  Returns 0, or -1 when out of memory.
 */
static int
diff_assign_ids(struct diff_side *a, struct diff_side *b,
                size_t **count_a, size_t **count_b)
{
    size_t total = a->nlines + b->nlines;
    size_t size = 16;
    while (size < 2 * total)
        size *= 2;
    /* open addressing; a slot without a line is free */
    struct slot {
        uint64_t hash;
        const struct diff_line *line;
        size_t id;
    } *table = calloc(size, sizeof(*table));
    *count_a = calloc(total + 1, sizeof(**count_a));
    *count_b = calloc(total + 1, sizeof(**count_b));
    if (!table || !*count_a || !*count_b) {
        free(table);
        return -1;
    }

    size_t next_id = 0;
    struct diff_side *sides[2] = { a, b };
    size_t *counts[2] = { *count_a, *count_b };
    for (int s = 0; s < 2; s++) {
        struct diff_side *side = sides[s];
        for (size_t i = 0; i < side->nlines; i++) {
            const struct diff_line *line = &side->lines[i];
            uint64_t h = diff_hash(line);
            size_t pos = (size_t)h & (size - 1);
            for (;;) {
                struct slot *slot = &table[pos];
                if (!slot->line) {
                    slot->hash = h;
                    slot->line = line;
                    slot->id = next_id++;
                    side->ids[i] = slot->id;
                    break;
                }
                if (slot->hash == h && slot->line->len == line->len &&
                    memcmp(slot->line->text, line->text, line->len) == 0) {
                    side->ids[i] = slot->id;
                    break;
                }
                pos = (pos + 1) & (size - 1);
            }
            counts[s][side->ids[i]]++;
        }
    }
    free(table);
    return 0;
}

/*
 * What Myers' algorithm runs on: the ids of the lines not set aside,
 * their changed flags, and the two search vectors, shared by every
 * level of the recursion.
 */
struct diff_ctx {
    const size_t *a, *b;     /* ids */
    unsigned char *ca, *cb;  /* changed flags, indexed like a and b */
    ptrdiff_t *vf, *vb;      /* furthest x per diagonal, offset applied */
};

/*
 * For a search that became too expensive after d steps: picks, among
 * the points both searches reached inside the n x m rectangle, the one
 * furthest from where its search began, as (*x, *y) relative to the
 * rectangle.  That point lies on some edit path, just not necessarily
 * a shortest one, and is neither corner, so both halves are smaller.
 * Returns false when there is no such point.
 */
static bool
diff_best_point(const ptrdiff_t *vf, const ptrdiff_t *vb, ptrdiff_t d,
                ptrdiff_t n, ptrdiff_t m, size_t *x, size_t *y)
{
    ptrdiff_t best = 0;
    for (ptrdiff_t k = -d; k <= d; k += 2) {
        ptrdiff_t fx = vf[k], fy = vf[k] - k;
        if (fx <= n && fy >= 0 && fy <= m && !(fx == n && fy == m) &&
            fx + fy > best) {
            best = fx + fy;
            *x = (size_t)fx;
            *y = (size_t)fy;
        }
        ptrdiff_t bx = vb[k], by = vb[k] - k;
        if (bx <= n && by >= 0 && by <= m && !(bx == n && by == m) &&
            bx + by > best) {
            best = bx + by;
            *x = (size_t)(n - bx);
            *y = (size_t)(m - by);
        }
    }
    return best > 0;
}

/*
 * Finds a point (*xmid, *ymid) that an optimal edit path from (xoff,
 * yoff) to (xlim, ylim) goes through and that splits its cost in two
 * halves, by running the greedy search forward from the start and
 * backward from the end until they meet (or until DIFF_MAX_COST steps,
 * see diff_best_point).  The caller has removed any common prefix and
 * suffix and both ranges are non-empty, so the cost is at least 2 and
 * both halves are strictly cheaper than the whole.
 *
 * The searches run on an unbounded grid (x may pass xlim, y ylim): a
 * monotone path that ends at the corner never leaves the rectangle, so
 * the meeting point is always inside it, and not clipping diagonals
 * keeps the furthest-reaching argument of the algorithm exact.
 */
static void
diff_split_point(struct diff_ctx *ctx, size_t xoff, size_t xlim,
                 size_t yoff, size_t ylim, size_t *xmid, size_t *ymid)
{
    const size_t *a = ctx->a + xoff, *b = ctx->b + yoff;
    ptrdiff_t n = (ptrdiff_t)(xlim - xoff), m = (ptrdiff_t)(ylim - yoff);
    ptrdiff_t delta = n - m;
    int odd = (int)(delta & 1);
    ptrdiff_t *vf = ctx->vf, *vb = ctx->vb;   /* indexable by -d-1..d+1 */
    ptrdiff_t max = (n + m + 1) / 2;

    vf[1] = 0;
    vb[1] = 0;
    for (ptrdiff_t d = 0; d <= max; d++) {
        /* forward: vf[k] is the furthest x on diagonal k = x - y */
        for (ptrdiff_t k = -d; k <= d; k += 2) {
            ptrdiff_t x;
            if (k == -d || (k != d && vf[k - 1] < vf[k + 1]))
                x = vf[k + 1];
            else
                x = vf[k - 1] + 1;
            ptrdiff_t y = x - k;
            while (x < n && y < m && a[x] == b[y]) {
                x++;
                y++;
            }
            vf[k] = x;
            /* reverse diagonal of k, searched d - 1 steps so far */
            ptrdiff_t kr = delta - k;
            if (odd && kr >= -(d - 1) && kr <= d - 1 && x + vb[kr] >= n) {
                *xmid = xoff + (size_t)x;
                *ymid = yoff + (size_t)y;
                return;
            }
        }
        /* backward: vb[k] is the furthest distance from the end */
        for (ptrdiff_t k = -d; k <= d; k += 2) {
            ptrdiff_t x;
            if (k == -d || (k != d && vb[k - 1] < vb[k + 1]))
                x = vb[k + 1];
            else
                x = vb[k - 1] + 1;
            ptrdiff_t y = x - k;
            while (x < n && y < m && a[n - 1 - x] == b[m - 1 - y]) {
                x++;
                y++;
            }
            vb[k] = x;
            ptrdiff_t kf = delta - k;
            if (!odd && kf >= -d && kf <= d && x + vf[kf] >= n) {
                *xmid = xoff + (size_t)(n - x);
                *ymid = yoff + (size_t)(m - y);
                return;
            }
        }
        if (d >= DIFF_MAX_COST &&
            diff_best_point(vf, vb, d, n, m, xmid, ymid)) {
            *xmid += xoff;
            *ymid += yoff;
            return;
        }
    }
    /* not reached: the searches meet by d = max */
    *xmid = xoff;
    *ymid = yoff;
}

/* Marks the lines that an optimal edit script deletes or inserts. */
static void
diff_compare(struct diff_ctx *ctx, size_t xoff, size_t xlim, size_t yoff,
             size_t ylim)
{
    for (;;) {
        while (xoff < xlim && yoff < ylim && ctx->a[xoff] == ctx->b[yoff]) {
            xoff++;
            yoff++;
        }
        while (xoff < xlim && yoff < ylim &&
               ctx->a[xlim - 1] == ctx->b[ylim - 1]) {
            xlim--;
            ylim--;
        }
        if (xoff == xlim || yoff == ylim) {
            for (size_t i = xoff; i < xlim; i++)
                ctx->ca[i] = 1;
            for (size_t j = yoff; j < ylim; j++)
                ctx->cb[j] = 1;
            return;
        }
        size_t xmid, ymid;
        diff_split_point(ctx, xoff, xlim, yoff, ylim, &xmid, &ymid);
        if ((xmid == xoff && ymid == yoff) ||
            (xmid == xlim && ymid == ylim) || xmid > xlim || ymid > ylim) {
            /* cannot happen (see diff_split_point); never loop forever */
            for (size_t i = xoff; i < xlim; i++)
                ctx->ca[i] = 1;
            for (size_t j = yoff; j < ylim; j++)
                ctx->cb[j] = 1;
            return;
        }
        /* recursing into the smaller half keeps the stack shallow */
        if ((xmid - xoff) + (ymid - yoff) <= (xlim - xmid) + (ylim - ymid)) {
            diff_compare(ctx, xoff, xmid, yoff, ymid);
            xoff = xmid;
            yoff = ymid;
        } else {
            diff_compare(ctx, xmid, xlim, ymid, ylim);
            xlim = xmid;
            ylim = ymid;
        }
    }
}

/*
 * Fills a->changed and b->changed.  Returns 0, or -1 when out of
 * memory.
 */
static int
diff_lines(struct diff_side *a, struct diff_side *b)
{
    int ret = -1;
    size_t *count_a = NULL, *count_b = NULL;
    size_t *ra = NULL, *rb = NULL, *mapa = NULL, *mapb = NULL;
    unsigned char *ca = NULL, *cb = NULL;
    ptrdiff_t *vf = NULL, *vb = NULL;

    if (diff_assign_ids(a, b, &count_a, &count_b) < 0)
        goto cleanup;

    ra = calloc(a->nlines + 1, sizeof(*ra));
    mapa = calloc(a->nlines + 1, sizeof(*mapa));
    rb = calloc(b->nlines + 1, sizeof(*rb));
    mapb = calloc(b->nlines + 1, sizeof(*mapb));
    if (!ra || !mapa || !rb || !mapb)
        goto cleanup;

    size_t na = 0, nb = 0;
    for (size_t i = 0; i < a->nlines; i++) {
        if (count_b[a->ids[i]] == 0) {
            a->changed[i] = 1;
        } else {
            ra[na] = a->ids[i];
            mapa[na++] = i;
        }
    }
    for (size_t j = 0; j < b->nlines; j++) {
        if (count_a[b->ids[j]] == 0) {
            b->changed[j] = 1;
        } else {
            rb[nb] = b->ids[j];
            mapb[nb++] = j;
        }
    }

    ca = calloc(na + 1, 1);
    cb = calloc(nb + 1, 1);
    /* diagonals -d-1..d+1 for d up to (na + nb + 1) / 2 */
    size_t vlen = na + nb + 8;
    vf = calloc(vlen, sizeof(*vf));
    vb = calloc(vlen, sizeof(*vb));
    if (!ca || !cb || !vf || !vb)
        goto cleanup;

    struct diff_ctx ctx = {
        .a = ra, .b = rb, .ca = ca, .cb = cb,
        .vf = vf + vlen / 2, .vb = vb + vlen / 2,
    };
    diff_compare(&ctx, 0, na, 0, nb);

    for (size_t i = 0; i < na; i++)
        if (ca[i])
            a->changed[mapa[i]] = 1;
    for (size_t j = 0; j < nb; j++)
        if (cb[j])
            b->changed[mapb[j]] = 1;
    ret = 0;

 cleanup:
    free(count_a);
    free(count_b);
    free(ra);
    free(rb);
    free(mapa);
    free(mapb);
    free(ca);
    free(cb);
    free(vf);
    free(vb);
    return ret;
}

/* A run of deleted a lines and inserted b lines between equal lines. */
struct diff_block {
    size_t a_start, a_end;
    size_t b_start, b_end;
};

/*
 * Collects the change blocks from the changed flags into a new array
 * (*out, caller frees).  Returns 0, or -1 when out of memory.
 */
static int
diff_blocks(const struct diff_side *a, const struct diff_side *b,
            struct diff_block **out, size_t *nout)
{
    size_t cap = 0, n = 0;
    struct diff_block *blocks = NULL;

    size_t i = 0, j = 0;
    while (i < a->nlines || j < b->nlines) {
        int del = i < a->nlines && a->changed[i];
        int ins = j < b->nlines && b->changed[j];
        if (!del && !ins) {
            /* both unchanged: the next lines of a and b are equal */
            i++;
            j++;
            continue;
        }
        struct diff_block block = { .a_start = i, .b_start = j };
        while (i < a->nlines && a->changed[i])
            i++;
        while (j < b->nlines && b->changed[j])
            j++;
        block.a_end = i;
        block.b_end = j;
        if (NST_GROW(blocks, n + 1, cap) < 0) {
            free(blocks);
            return -1;
        }
        blocks[n++] = block;
    }
    *out = blocks;
    *nout = n;
    return 0;
}

static void
diff_emit_line(struct nst_buf *buf, char mark, const struct diff_line *line)
{
    nst_buf_add(buf, &mark, 1);
    nst_buf_add(buf, line->text, line->len);
    if (line->len == 0 || line->text[line->len - 1] != '\n')
        nst_buf_adds(buf, "\n\\ No newline at end of file\n");
}

/*
 * GNU's range notation: "l" for one line, "l,s" for several, and for
 * an empty range the number of the line before it with ",0".
 */
static void
diff_emit_range(struct nst_buf *buf, size_t start, size_t end)
{
    if (end == start)
        nst_buf_addf(buf, "%zu,0", start);
    else if (end - start == 1)
        nst_buf_addf(buf, "%zu", start + 1);
    else
        nst_buf_addf(buf, "%zu,%zu", start + 1, end - start);
}

/* Writes the hunk made of blocks[first..last]. */
static void
diff_emit_hunk(struct nst_buf *buf, const struct diff_side *a,
               const struct diff_side *b, const struct diff_block *blocks,
               size_t first, size_t last)
{
    const struct diff_block *fb = &blocks[first], *lb = &blocks[last];
    size_t before = fb->a_start < DIFF_CONTEXT ? fb->a_start : DIFF_CONTEXT;
    size_t tail = a->nlines - lb->a_end;
    size_t after = tail < DIFF_CONTEXT ? tail : DIFF_CONTEXT;
    size_t a_lo = fb->a_start - before, a_hi = lb->a_end + after;
    size_t b_lo = fb->b_start - before, b_hi = lb->b_end + after;

    nst_buf_adds(buf, "@@ -");
    diff_emit_range(buf, a_lo, a_hi);
    nst_buf_adds(buf, " +");
    diff_emit_range(buf, b_lo, b_hi);
    nst_buf_adds(buf, " @@\n");

    size_t i = a_lo;
    for (size_t k = first; k <= last; k++) {
        const struct diff_block *block = &blocks[k];
        for (; i < block->a_start; i++)
            diff_emit_line(buf, ' ', &a->lines[i]);
        for (; i < block->a_end; i++)
            diff_emit_line(buf, '-', &a->lines[i]);
        for (size_t j = block->b_start; j < block->b_end; j++)
            diff_emit_line(buf, '+', &b->lines[j]);
    }
    for (; i < a_hi; i++)
        diff_emit_line(buf, ' ', &a->lines[i]);
}

/*
 * See nestify.h.  a and b may be NULL when their length is 0; NULL
 * labels print as empty.  Returns a new string the caller frees.
 */
char *
nst_diff_unified(const char *a, size_t alen, const char *b, size_t blen,
                 const char *label_a, const char *label_b)
{
    struct nst_buf buf = { 0 };
    if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0))
        return nst_buf_finish(&buf, NULL);

    char *result = NULL;
    struct diff_side sa = { 0 }, sb = { 0 };
    struct diff_block *blocks = NULL;
    size_t nblocks = 0;
    if (diff_split(a, alen, &sa) < 0 || diff_split(b, blen, &sb) < 0 ||
        diff_lines(&sa, &sb) < 0 ||
        diff_blocks(&sa, &sb, &blocks, &nblocks) < 0)
        goto cleanup;

    nst_buf_addf(&buf, "--- %s\n+++ %s\n", label_a ? label_a : "",
                 label_b ? label_b : "");
    /*
     * Blocks whose context would touch or overlap (at most 2 * context
     * equal lines apart) share a hunk, as in GNU diff.
     */
    for (size_t first = 0; first < nblocks;) {
        size_t last = first;
        while (last + 1 < nblocks &&
               blocks[last + 1].a_start - blocks[last].a_end <=
               2 * DIFF_CONTEXT)
            last++;
        diff_emit_hunk(&buf, &sa, &sb, blocks, first, last);
        first = last + 1;
    }
    result = nst_buf_finish(&buf, NULL);

 cleanup:
    if (!result)
        free(buf.data);
    free(blocks);
    diff_side_clear(&sa);
    diff_side_clear(&sb);
    return result;
}
