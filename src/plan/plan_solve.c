/* plan_solve.c - the planning model as a MILP, solved with GLPK: the most
 * truck-km within a budget, and the cheapest network that serves a set of
 * jurisdictions' trucks. This file alone knows GLPK. docs/plan.md has the
 * formulation; plan_model.c builds the paths and cover sets it reads. */
#include "plan_internal.h"

#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The matrix in GLPK's triplets (1-based; index 0 unused). */
typedef struct {
    int *ia, *ja;
    double *ar;
    size_t n, cap;
    ec_err err;
} triplets;

static void put(triplets *t, int row, int col, double v)
{
    if (t->err || v == 0) return;
    if (t->n + 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        int *ia = ec_realloc(t->ia, cap * sizeof *ia);
        if (ia) t->ia = ia;
        int *ja = ia ? ec_realloc(t->ja, cap * sizeof *ja) : NULL;
        if (ja) t->ja = ja;
        double *ar = ja ? ec_realloc(t->ar, cap * sizeof *ar) : NULL;
        if (!ar) {
            t->err = EC_ENOMEM;
            return;
        }
        t->ar = ar, t->cap = cap;
    }
    t->n++;
    t->ia[t->n] = row, t->ja[t->n] = col, t->ar[t->n] = v;
}

static int add_row(glp_prob *lp, int type, double lb, double ub)
{
    int r = glp_add_rows(lp, 1);
    glp_set_row_bnds(lp, r, type, lb, ub);
    return r;
}

static int add_col(glp_prob *lp, int kind, int type, double lb, double ub, double obj)
{
    int c = glp_add_cols(lp, 1);
    glp_set_col_kind(lp, c, kind);
    glp_set_col_bnds(lp, c, type == GLP_DB && lb == ub ? GLP_FX : type, lb, ub);
    glp_set_obj_coef(lp, c, obj);
    return c;
}

/* Columns of one place. */
typedef struct {
    int u, a, g;
    int most_u; /* min cost: the sites its grid lets it hold (each has a point at least) */
} place_cols;

/* A set of places (a range of one path's on-list) met before gets the same id: paths that may
 * charge at the same places share their energy's columns. */
typedef struct {
    ec_map ids;   /* hash of the places -> id */
    ec_vec reps;  /* per id: set_rep */
} set_index;

typedef struct {
    uint32_t path, lo, hi;
    int first;  /* its first z column */
    int row;    /* its balance row */
    double energy_kwh; /* min cost: the energy of the paths in it */
} set_rep;

/* Sorted arrays of ids met before get the same id: a cover set is its places whatever the
 * direction of the path, a family the cover sets of a path. */
typedef struct {
    ec_map ids;  /* hash -> id */
    ec_vec off;  /* size_t: id k is data[off[k] .. off[k+1]) */
    ec_vec data; /* uint32_t */
} seq_index;

/* Per cover set: its row and (budget) its w column. */
typedef struct {
    int row, w;
} cover_cols;

/* Per family (budget): paths with the same cover sets, and so the same places, served in one share. */
typedef struct {
    int y;
    long alloc;        /* the energy set of its first path: the same places as every other's */
    double km, energy; /* its paths' truck-km and kWh a day */
} family;

typedef enum { MODE_BUDGET, MODE_MIN_COST } solve_mode;

#define PLAN_GREEN_SITES 8 /* sites the min cost may put at one place */

typedef struct {
    const struct ec_plan_model *m;
    solve_mode mode;
    glp_prob *lp;
    triplets t;
    place_cols *pc;
    int *cap_row;  /* per place: its capacity row */
    int *use_row;  /* budget, per place with a bonus: its energy >= its use (0: none) */
    int *y;        /* per path: its column (budget), 0 when left out */
    set_index alloc;
    seq_index covers, families;
    ec_vec cover_cols; /* cover_cols, by cover id */
    ec_vec fams;       /* family, by family id */
    uint32_t *buf;     /* a path's places or cover ids, sorted */
    size_t cap_buf;
    int *in;       /* per path: in the model */
    double bound;  /* the best bound the search reported */
    int have_bound;
    int node_limit, nodes, stopped, timed_out; /* stopped: by the node limit */
    double budget;
    double *heur;  /* budget: a plan rounded from the relaxation, 1-based by column; NULL: none */
    int heur_given;
} milp;

static double annuity_factor(const struct ec_plan_model *m)
{
    return ec_plan_annuity(1.0, m->c.costs->discount_rate, m->c.years);
}

/* A place's points, use and grid, its capacity, power and grid rows. Greenfield for the min cost: every
 * place new, its points paid, an existing site's present power counted as headroom. */
static void place_part(milp *p, size_t k)
{
    const struct ec_plan_model *m = p->m;
    const ec_plan_place_t *pl = &m->c.places[k];
    const ec_plan_costs_t *c = m->c.costs;
    int green = p->mode == MODE_MIN_COST;
    int p0 = green ? 0 : pl->points0;
    int fixed_use = !green && pl->existing && pl->points0 > 0;
    double site_capex = green || !pl->existing ? c->site_fixed_capex : 0.0;
    /* (an existing site's may be below 0: its points today draw more than its connection) */
    double headroom = pl->headroom_kw;
    if (green && pl->existing && isfinite(headroom)) headroom += pl->points0 * pl->kw;
    if (headroom < 0) headroom = 0;
    double grid_ub = isfinite(headroom) || pl->substation ? pl->grid_max_kw : 0.0;
    double ucoef, acoef, gcoef;
    if (green) {
        double af = annuity_factor(m);
        ucoef = af * site_capex + c->site_opex_per_year;
        acoef = af * pl->point_capex + c->point_opex_per_year + c->demand_charge_per_kw_month * 12.0 * pl->kw;
        gcoef = af * c->grid_capex_per_kw;
    } else {
        ucoef = pl->bonus - m->eps * site_capex;
        acoef = -m->eps * pl->point_capex;
        gcoef = -m->eps * c->grid_capex_per_kw;
    }
    place_cols *pc = &p->pc[k];
    /* The min cost may put several sites at one place (u counts them, each up to max_points): two
     * coalitions' networks side by side at a junction are then a network of their union, so the
     * cost game is subadditive as the places' limits would not let it be otherwise. */
    pc->u = add_col(p->lp, green ? GLP_IV : GLP_BV, GLP_DB, fixed_use ? 1 : 0, green ? PLAN_GREEN_SITES : 1, ucoef);
    /* the min cost prices capacity in fractions of a point (the cost game's coalitions do not jump
     * with the rounding at each site); the budget buys whole points */
    pc->a = add_col(p->lp, green ? GLP_CV : GLP_IV, GLP_DB, 0, green ? pl->max_points * PLAN_GREEN_SITES : pl->max_points - p0,
                    acoef);
    pc->g = add_col(p->lp, GLP_CV, GLP_DB, 0, grid_ub, gcoef);
    double most_a = isfinite(headroom) && pl->kw > 0 ? (headroom + grid_ub) / pl->kw : INFINITY;
    pc->most_u = most_a >= PLAN_GREEN_SITES ? PLAN_GREEN_SITES : most_a < 0 ? 0 : (int)floor(most_a + 1e-9);
    double cap = plan__point_kwh_per_day(m, k);
    /* sum_q z_qk <= cap (p0 + a) */
    p->cap_row[k] = add_row(p->lp, GLP_UP, 0, cap * p0);
    put(&p->t, p->cap_row[k], pc->a, -cap);
    /* A place earns its proximity bonus only where it charges: sum_q z_qk >= 1 kWh a day x u. */
    if (!green && !fixed_use && pl->bonus > 0) {
        p->use_row[k] = add_row(p->lp, GLP_LO, 0, 0);
        put(&p->t, p->use_row[k], pc->u, -1.0);
    }
    if (!fixed_use) {
        /* u <= p0 + a; p0 + a <= max u */
        int r = add_row(p->lp, GLP_UP, 0, p0);
        put(&p->t, r, pc->u, 1), put(&p->t, r, pc->a, -1);
        r = add_row(p->lp, GLP_UP, 0, -p0);
        put(&p->t, r, pc->a, 1), put(&p->t, r, pc->u, -pl->max_points);
    }
    if (isfinite(headroom)) {
        int r = add_row(p->lp, GLP_UP, 0, headroom);
        put(&p->t, r, pc->a, pl->kw), put(&p->t, r, pc->g, -1);
    }
}

static int same_places(const struct ec_plan_model *m, const set_rep *r, const plan_path *q, uint32_t lo, uint32_t hi)
{
    const plan_path *p = &m->paths[r->path];
    return r->hi - r->lo == hi - lo &&
           !memcmp(m->on_place + p->on_off + r->lo, m->on_place + q->on_off + lo, (hi - lo) * sizeof *m->on_place);
}

/* The id of the places [lo, hi) of q's on-list; *is_new when first met. -1 on failure. */
static long set_of(set_index *x, const struct ec_plan_model *m, size_t qi, uint32_t lo, uint32_t hi, int *is_new)
{
    const plan_path *q = &m->paths[qi];
    uint64_t h = ec_hash_bytes(m->on_place + q->on_off + lo, (hi - lo) * sizeof *m->on_place), id;
    *is_new = 0;
    for (uint64_t probe = h;; probe = probe * 0x9e3779b97f4a7c15ULL + 1) {
        if (!ec_map_get(&x->ids, probe, &id)) {
            set_rep r = {(uint32_t)qi, lo, hi, 0, 0, 0};
            if (ec_map_put(&x->ids, probe, x->reps.len) || ec_vec_push(&x->reps, &r)) return -1;
            *is_new = 1;
            return (long)(x->reps.len - 1);
        }
        if (same_places(m, &EC_VEC_AT(&x->reps, set_rep, id), q, lo, hi)) return (long)id;
    }
}

static int by_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The id of the sorted array a[0..n); *is_new when first met. -1 on failure. */
static long seq_id(seq_index *x, const uint32_t *a, uint32_t n, int *is_new)
{
    uint64_t h = ec_hash_bytes(a, n * sizeof *a) ^ n, id;
    *is_new = 0;
    if (!x->off.len) {
        size_t zero = 0;
        if (ec_vec_push(&x->off, &zero)) return -1;
    }
    for (uint64_t probe = h;; probe = probe * 0x9e3779b97f4a7c15ULL + 1) {
        if (!ec_map_get(&x->ids, probe, &id)) {
            for (uint32_t k = 0; k < n; k++)
                if (ec_vec_push(&x->data, &a[k])) return -1;
            size_t end = x->data.len;
            id = x->off.len - 1;
            if (ec_vec_push(&x->off, &end) || ec_map_put(&x->ids, probe, id)) return -1;
            *is_new = 1;
            return (long)id;
        }
        size_t b = EC_VEC_AT(&x->off, size_t, id), e = EC_VEC_AT(&x->off, size_t, id + 1);
        if (e - b == n && !memcmp((const uint32_t *)x->data.data + b, a, n * sizeof *a)) return (long)id;
    }
}

static ec_err sorted_buf(milp *p, size_t n)
{
    return ec_grow((void **)&p->buf, &p->cap_buf, n + 1, sizeof *p->buf);
}

/* A path's energy on the columns of its places, its cover rows, and (budget) its family's served share. */
static ec_err path_part(milp *p, size_t i)
{
    const struct ec_plan_model *m = p->m;
    const plan_path *q = &m->paths[i];
    int budget = p->mode == MODE_BUDGET, is_new;
    uint32_t lo, hi;
    plan__alloc_range(m, q, &lo, &hi);
    long g = set_of(&p->alloc, m, i, lo, hi, &is_new);
    if (g < 0) return EC_ENOMEM;
    set_rep *r = &EC_VEC_AT(&p->alloc.reps, set_rep, g);
    if (is_new) {
        /* sum_k z_k = the energy of its paths served */
        r->row = add_row(p->lp, GLP_FX, 0, 0);
        r->first = (int)glp_get_num_cols(p->lp) + 1;
        for (uint32_t s = lo; s < hi; s++) {
            int z = add_col(p->lp, GLP_CV, GLP_LO, 0, 0, 0);
            put(&p->t, r->row, z, 1);
            put(&p->t, p->cap_row[m->on_place[q->on_off + s]], z, 1);
            if (p->use_row[m->on_place[q->on_off + s]]) put(&p->t, p->use_row[m->on_place[q->on_off + s]], z, 1);
        }
    }
    if (!budget) r->energy_kwh += q->energy_kwh;
    /* every arc beyond the start's range: an open place covers it */
    uint32_t *ids = ec_malloc(((size_t)q->n_cover + 1) * sizeof *ids);
    if (!ids) return EC_ENOMEM;
    ec_err rc = EC_OK;
    for (uint32_t s = 0; s < q->n_cover && !rc; s++) {
        uint32_t clo = m->cover_lo[q->cover_off + s], chi = m->cover_hi[q->cover_off + s];
        if ((rc = sorted_buf(p, chi - clo))) break;
        for (uint32_t j = clo; j < chi; j++) p->buf[j - clo] = m->on_place[q->on_off + j];
        qsort(p->buf, chi - clo, sizeof *p->buf, by_u32);
        long c = seq_id(&p->covers, p->buf, chi - clo, &is_new);
        if (c < 0 || (is_new && ec_vec_push(&p->cover_cols, &(cover_cols){0, 0}))) {
            rc = EC_ENOMEM;
            break;
        }
        cover_cols *cc = &EC_VEC_AT(&p->cover_cols, cover_cols, c);
        if (is_new) {
            /* budget: w <= sum u (w > 0 only when a place of the set is open); min cost: sum u >= 1 */
            cc->row = budget ? add_row(p->lp, GLP_UP, 0, 0) : add_row(p->lp, GLP_LO, 1, 0);
            if (budget) cc->w = add_col(p->lp, GLP_CV, GLP_DB, 0, 1, 0), put(&p->t, cc->row, cc->w, 1);
            for (uint32_t j = 0; j < chi - clo; j++) put(&p->t, cc->row, p->pc[p->buf[j]].u, budget ? -1 : 1);
        }
        ids[s] = (uint32_t)c;
    }
    if (!rc && budget) {
        /* its family: the share served of every path with the same cover sets (so the same places) */
        qsort(ids, q->n_cover, sizeof *ids, by_u32);
        uint32_t n = 0;
        for (uint32_t s = 0; s < q->n_cover; s++)
            if (!n || ids[n - 1] != ids[s]) ids[n++] = ids[s];
        long f = seq_id(&p->families, ids, n, &is_new);
        if (f < 0 || (is_new && ec_vec_push(&p->fams, &(family){0, g, 0, 0}))) rc = EC_ENOMEM;
        else {
            family *fa = &EC_VEC_AT(&p->fams, family, f);
            if (is_new) {
                fa->y = add_col(p->lp, GLP_CV, GLP_DB, 0, 1, 0);
                for (uint32_t s = 0; s < n; s++) { /* y <= w */
                    int row = add_row(p->lp, GLP_UP, 0, 0);
                    put(&p->t, row, fa->y, 1), put(&p->t, row, EC_VEC_AT(&p->cover_cols, cover_cols, ids[s]).w, -1);
                }
            }
            fa->km += q->flow * q->km, fa->energy += q->energy_kwh;
            p->y[i] = fa->y;
        }
    }
    ec_free(ids);
    return rc ? rc : p->t.err;
}

/* The families' shares: truck-km in the objective, energy on their places. */
static void family_part(milp *p)
{
    for (size_t f = 0; f < p->fams.len; f++) {
        const family *fa = &EC_VEC_AT(&p->fams, family, f);
        glp_set_obj_coef(p->lp, fa->y, fa->km);
        put(&p->t, EC_VEC_AT(&p->alloc.reps, set_rep, fa->alloc).row, fa->y, -fa->energy);
    }
}

/* Each substation: the power its places add, less the grid added at them, within its headroom
 * (the min cost builds from nothing: today's points behind it count as headroom). */
static ec_err sub_part(milp *p)
{
    const struct ec_plan_model *m = p->m;
    int green = p->mode == MODE_MIN_COST;
    for (size_t s = 0; s < m->c.n_subs; s++) {
        double head = m->c.subs[s].headroom_kw; /* below 0 when today's points draw more */
        if (!isfinite(head)) continue;
        int r = 0;
        for (size_t k = 0; k < m->c.n_places; k++) {
            const ec_plan_place_t *pl = &m->c.places[k];
            if (pl->substation != (int)s + 1) continue;
            if (!r) r = add_row(p->lp, GLP_UP, 0, 0);
            if (green && pl->existing) head += pl->points0 * pl->kw;
            put(&p->t, r, p->pc[k].a, pl->kw), put(&p->t, r, p->pc[k].g, -1);
        }
        if (r) glp_set_row_bnds(p->lp, r, GLP_UP, 0, fmax(0, head));
    }
    return p->t.err;
}

static void budget_row(milp *p, double budget)
{
    const struct ec_plan_model *m = p->m;
    int r = add_row(p->lp, GLP_UP, 0, budget);
    for (size_t k = 0; k < m->c.n_places; k++) {
        const ec_plan_place_t *pl = &m->c.places[k];
        if (!pl->existing) put(&p->t, r, p->pc[k].u, m->c.costs->site_fixed_capex);
        put(&p->t, r, p->pc[k].a, pl->point_capex);
        put(&p->t, r, p->pc[k].g, m->c.costs->grid_capex_per_kw);
    }
}

/* The search's best bound, as the tree reports it; the stop at the node limit once there is an
 * incumbent (or at ten times the limit without one): the same search stops at the same node
 * every run, so the same model gives the same plan. */
static void callback(glp_tree *tree, void *info)
{
    milp *p = info;
    int r = glp_ios_reason(tree);
    if (r != GLP_ISELECT && r != GLP_IBINGO && r != GLP_IHEUR) return;
    if (r == GLP_IHEUR && p->heur && !p->heur_given) {
        p->heur_given = 1;
        glp_ios_heur_sol(tree, p->heur);
    }
    int best = glp_ios_best_node(tree);
    if (best) {
        p->bound = glp_ios_node_bound(tree, best);
        p->have_bound = 1;
    }
    if (r != GLP_ISELECT) return;
    int active, live, total;
    glp_ios_tree_size(tree, &active, &live, &total);
    p->nodes = total;
    int have = glp_ios_mip_gap(tree) < 1e300;
    if (p->node_limit > 0 && (total >= p->node_limit * (have ? 1 : 10))) {
        p->stopped = 1;
        glp_ios_terminate(tree);
    }
}

static void milp_free(milp *p)
{
    if (p->lp) glp_delete_prob(p->lp);
    ec_free(p->t.ia), ec_free(p->t.ja), ec_free(p->t.ar);
    ec_free(p->pc), ec_free(p->cap_row), ec_free(p->use_row), ec_free(p->y), ec_free(p->in), ec_free(p->heur);
    ec_map_free(&p->alloc.ids), ec_vec_free(&p->alloc.reps);
    ec_map_free(&p->covers.ids), ec_vec_free(&p->covers.off), ec_vec_free(&p->covers.data);
    ec_map_free(&p->families.ids), ec_vec_free(&p->families.off), ec_vec_free(&p->families.data);
    ec_vec_free(&p->cover_cols), ec_vec_free(&p->fams), ec_free(p->buf);
}

static ec_err milp_build(milp *p, const struct ec_plan_model *m, solve_mode mode, double budget,
                         const unsigned char *members)
{
    memset(p, 0, sizeof *p);
    p->m = m, p->mode = mode, p->budget = budget;
    p->node_limit = m->c.node_limit > 0 ? m->c.node_limit : 2000;
    size_t np = m->c.n_places + 1, nq = m->n_paths + 1;
    p->pc = ec_calloc(np, sizeof *p->pc);
    p->cap_row = ec_calloc(np, sizeof *p->cap_row);
    p->use_row = ec_calloc(np, sizeof *p->use_row);
    p->y = ec_calloc(nq, sizeof *p->y);
    p->in = ec_calloc(nq, sizeof *p->in);
    ec_vec_init(&p->alloc.reps, sizeof(set_rep));
    ec_vec_init(&p->covers.off, sizeof(size_t)), ec_vec_init(&p->covers.data, sizeof(uint32_t));
    ec_vec_init(&p->families.off, sizeof(size_t)), ec_vec_init(&p->families.data, sizeof(uint32_t));
    ec_vec_init(&p->cover_cols, sizeof(cover_cols)), ec_vec_init(&p->fams, sizeof(family));
    if (!(p->pc && p->cap_row && p->use_row && p->y && p->in)) return EC_ENOMEM;
    ec_err rc = ec_map_init(&p->alloc.ids, 1024);
    if (!rc) rc = ec_map_init(&p->covers.ids, 1024);
    if (!rc) rc = ec_map_init(&p->families.ids, 1024);
    if (rc) return rc;
    p->lp = glp_create_prob();
    glp_set_obj_dir(p->lp, mode == MODE_BUDGET ? GLP_MAX : GLP_MIN);
    for (size_t k = 0; k < m->c.n_places; k++) place_part(p, k);
    for (size_t i = 0; i < m->n_paths; i++) {
        const plan_path *q = &m->paths[i];
        if (!q->servable) continue;
        if (mode == MODE_MIN_COST && members && (q->jurisdiction < 0 || !members[q->jurisdiction])) continue;
        p->in[i] = 1;
        if ((rc = path_part(p, i))) return rc;
    }
    for (size_t g = 0; mode == MODE_MIN_COST && g < p->alloc.reps.len; g++) {
        const set_rep *r = &EC_VEC_AT(&p->alloc.reps, set_rep, g);
        glp_set_row_bnds(p->lp, r->row, GLP_FX, r->energy_kwh, r->energy_kwh);
    }
    if ((rc = sub_part(p))) return rc;
    if (mode == MODE_BUDGET) family_part(p);
    if (mode == MODE_BUDGET && budget >= 0) budget_row(p, budget);
    if (p->t.err) return p->t.err;
    if (p->t.n > (size_t)INT32_MAX - 2) return ec_fail(EC_ELIMIT, "plan: the MILP has too many nonzeros");
    glp_load_matrix(p->lp, (int)p->t.n, p->t.ia, p->t.ja, p->t.ar);
    if (getenv("EC_PLAN_GLPK_MSG"))
        fprintf(stderr, "plan: %s MILP: %d rows, %d columns (%d integer), %zu nonzeros; %zu energy sets, %zu cover "
                "sets, %zu families\n", mode == MODE_BUDGET ? "budget" : "min-cost", glp_get_num_rows(p->lp),
                glp_get_num_cols(p->lp), glp_get_num_int(p->lp), p->t.n, p->alloc.reps.len, p->covers.off.len ? p->covers.off.len - 1 : 0,
                p->fams.len);
    return EC_OK;
}

/* A MILP with more rows than this, or columns than five times this, is large (unless the model's
 * config says otherwise): no cuts or feasibility pump, and fewer nodes. */
#define PLAN_LARGE_ROWS 5000

typedef struct {
    size_t k;
    double a;
} ranked;

static int by_points(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->a != b->a) return a->a > b->a ? -1 : 1;
    return (a->k > b->k) - (a->k < b->k);
}

/* Budget: the places the relaxation builds most at, in turn, each with its points rounded (at least
 * one) while the budget lasts. Fills u[k], a[k] (whole). */
static ec_err budget_take(milp *p, int *u, int *a)
{
    const struct ec_plan_model *m = p->m;
    const ec_plan_costs_t *c = m->c.costs;
    size_t n = m->c.n_places;
    ranked *r = ec_malloc((n + 1) * sizeof *r);
    double *sub_left = ec_malloc((m->c.n_subs + 1) * sizeof *sub_left);
    if (!r || !sub_left) {
        ec_free(r), ec_free(sub_left);
        return EC_ENOMEM;
    }
    for (size_t s = 0; s < m->c.n_subs; s++) sub_left[s] = fmax(0, m->c.subs[s].headroom_kw);
    for (size_t k = 0; k < n; k++) r[k].k = k, r[k].a = glp_get_col_prim(p->lp, p->pc[k].a);
    qsort(r, n, sizeof *r, by_points);
    double left = p->budget >= 0 ? p->budget : INFINITY;
    for (size_t i = 0; i < n && r[i].a > 1e-6; i++) {
        size_t k = r[i].k;
        const ec_plan_place_t *pl = &m->c.places[k];
        int most = pl->max_points - pl->points0;
        double *sub = pl->substation ? &sub_left[pl->substation - 1] : NULL;
        int limited = isfinite(pl->headroom_kw) || sub;
        for (int pts = (int)fmin(most, fmax(1.0, floor(r[i].a + 0.5))); pts >= 1; pts--) {
            /* the grid to buy: what the place's headroom or its substation's lacks, the more of the two */
            double kw = pts * pl->kw, grid = 0;
            if (isfinite(pl->headroom_kw)) grid = fmax(grid, kw - fmax(0, pl->headroom_kw));
            if (sub && isfinite(*sub)) grid = fmax(grid, kw - *sub);
            if (limited && grid > pl->grid_max_kw) continue;
            double cost = (pl->existing ? 0 : c->site_fixed_capex) + pts * pl->point_capex + grid * c->grid_capex_per_kw;
            if (cost <= left) {
                a[k] = pts, left -= cost;
                if (sub) *sub -= kw - grid;
                break;
            }
        }
    }
    for (size_t k = 0; k < n; k++) u[k] = a[k] > 0 || (m->c.places[k].existing && m->c.places[k].points0 > 0);
    ec_free(r), ec_free(sub_left);
    return EC_OK;
}

static int by_use(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->a != b->a) return a->a < b->a ? -1 : 1;
    return (a->k > b->k) - (a->k < b->k);
}

/* Min cost: open[k] for the places the relaxation builds at (and whose grid holds a point), then,
 * the least used first, each closed whose every cover set keeps another open place. */
static ec_err green_open(milp *p, const double *relax_u, unsigned char *open, int thin)
{
    size_t n = p->m->c.n_places, nc = p->covers.off.len ? p->covers.off.len - 1 : 0;
    const size_t *off = p->covers.off.data;
    const uint32_t *data = p->covers.data.data;
    ranked *r = ec_malloc((n + 1) * sizeof *r);
    size_t *first = ec_calloc(n + 2, sizeof *first), *pos = ec_calloc(n + 2, sizeof *pos);
    uint32_t *left = ec_calloc(nc + 1, sizeof *left), *of = ec_malloc(((nc ? off[nc] : 0) + 1) * sizeof *of);
    ec_err rc = r && first && pos && left && of ? EC_OK : EC_ENOMEM;
    size_t nr = 0;
    for (size_t k = 0; !rc && k < n; k++) {
        double u = relax_u[k];
        open[k] = u > 1e-6 && p->pc[k].most_u > 0;
        if (open[k]) r[nr].k = k, r[nr++].a = u;
    }
    if (!rc && thin && nc) {
        /* the cover sets of each place, and how many of each set's places are open */
        size_t total = off[nc];
        for (size_t i = 0; i < total; i++) first[data[i] + 1]++;
        for (size_t k = 0; k < n; k++) first[k + 1] += first[k];
        memcpy(pos, first, (n + 1) * sizeof *pos);
        for (size_t c = 0; c < nc; c++)
            for (size_t i = off[c]; i < off[c + 1]; i++) {
                of[pos[data[i]]++] = (uint32_t)c;
                left[c] += open[data[i]];
            }
        qsort(r, nr, sizeof *r, by_use);
        for (size_t i = 0; i < nr; i++) {
            size_t k = r[i].k, j;
            for (j = first[k]; j < first[k + 1] && left[of[j]] > 1; j++) {}
            if (j < first[k + 1]) continue;
            open[k] = 0;
            for (j = first[k]; j < first[k + 1]; j++) left[of[j]]--;
        }
    }
    ec_free(r), ec_free(first), ec_free(pos), ec_free(left), ec_free(of);
    return rc;
}

static void set_bounds(glp_prob *lp, int col, double lb, double ub)
{
    glp_set_col_bnds(lp, col, lb == ub ? GLP_FX : GLP_DB, lb, ub);
}

static int resolve(milp *p, const glp_smcp *sp)
{
    /* changing bounds keeps the relaxation's basis dual feasible: the dual simplex starts from it */
    glp_smcp dual = *sp;
    dual.meth = GLP_DUALP;
    return !glp_simplex(p->lp, &dual) && glp_get_status(p->lp) == GLP_OPT;
}

/* Min cost, from the relaxation: the sites at the places green_open keeps (all it opens when
 * the rest cannot carry the energy), solved again, then at each place the fewest whole sites that
 * hold its points, for the points, energy and grid to be solved with those fixed. 1 when u[]
 * holds a whole plan. */
static int green_take(milp *p, const glp_smcp *sp, int *u, unsigned char *open)
{
    size_t n = p->m->c.n_places;
    double *relax_u = ec_malloc((n + 1) * sizeof *relax_u);
    if (!relax_u) return 0;
    for (size_t k = 0; k < n; k++) relax_u[k] = glp_get_col_prim(p->lp, p->pc[k].u);
    for (int thin = 1; thin >= 0; thin--) {
        if (green_open(p, relax_u, open, thin)) break;
        for (size_t k = 0; k < n; k++) set_bounds(p->lp, p->pc[k].u, 0, open[k] ? p->pc[k].most_u : 0);
        if (!resolve(p, sp)) continue;
        /* the fewest sites that hold the points (each a point at least), as the optimum has them */
        for (size_t k = 0; k < n; k++) {
            double x = glp_get_col_prim(p->lp, p->pc[k].u), a = glp_get_col_prim(p->lp, p->pc[k].a);
            int most = p->m->c.places[k].max_points;
            double need = fmax(1, ceil(a / (most > 0 ? most : 1) - 1e-9));
            u[k] = open[k] && x > 1e-7 ? (int)fmin(p->pc[k].most_u, need) : 0;
        }
        ec_free(relax_u);
        return 1;
    }
    ec_free(relax_u);
    return 0;
}

/* The relaxation's plan made whole, for the search to start from (GLPK's own heuristics seldom
 * find one on a large corridor): p->heur gets every column's value. Leaves the columns' bounds
 * and the basis as they were. */
static ec_err round_incumbent(milp *p, const glp_smcp *sp)
{
    const struct ec_plan_model *m = p->m;
    size_t n = m->c.n_places;
    int cols = glp_get_num_cols(p->lp), rows = glp_get_num_rows(p->lp);
    int *u = ec_calloc(n + 1, sizeof *u), *a = ec_calloc(n + 1, sizeof *a);
    double *save = ec_malloc(4 * (n + 1) * sizeof *save);
    unsigned char *stat = ec_malloc((size_t)rows + (size_t)cols + 2), *open = ec_calloc(n + 1, 1);
    ec_err rc = u && a && save && stat && open ? EC_OK : EC_ENOMEM;
    if (!rc) {
        /* the relaxation's basis and bounds, to go back to */
        for (int i = 1; i <= rows; i++) stat[i] = (unsigned char)glp_get_row_stat(p->lp, i);
        for (int j = 1; j <= cols; j++) stat[rows + j] = (unsigned char)glp_get_col_stat(p->lp, j);
        for (size_t k = 0; k < n; k++) {
            save[4 * k] = glp_get_col_lb(p->lp, p->pc[k].u), save[4 * k + 1] = glp_get_col_ub(p->lp, p->pc[k].u);
            save[4 * k + 2] = glp_get_col_lb(p->lp, p->pc[k].a), save[4 * k + 3] = glp_get_col_ub(p->lp, p->pc[k].a);
        }
        int whole = 0;
        if (p->mode == MODE_BUDGET) {
            if (!(rc = budget_take(p, u, a))) {
                for (size_t k = 0; k < n; k++) set_bounds(p->lp, p->pc[k].a, a[k], a[k]);
                whole = 1;
            }
        } else {
            whole = green_take(p, sp, u, open);
        }
        if (whole) {
            for (size_t k = 0; k < n; k++) set_bounds(p->lp, p->pc[k].u, u[k], u[k]);
            int found = resolve(p, sp);
            if (getenv("EC_PLAN_GLPK_MSG") && found)
                fprintf(stderr, "plan: the rounded relaxation, to start from: %.6g\n", glp_get_obj_val(p->lp));
            else if (getenv("EC_PLAN_GLPK_MSG"))
                fprintf(stderr, "plan: the rounded relaxation is not a plan\n");
            if (found && (p->heur = ec_malloc(((size_t)cols + 1) * sizeof *p->heur))) {
                p->heur[0] = 0;
                for (int j = 1; j <= cols; j++) {
                    double v = glp_get_col_prim(p->lp, j);
                    p->heur[j] = glp_get_col_kind(p->lp, j) == GLP_CV ? v : floor(v + 0.5);
                }
            }
        }
        for (size_t k = 0; k < n; k++) {
            set_bounds(p->lp, p->pc[k].u, save[4 * k], save[4 * k + 1]);
            set_bounds(p->lp, p->pc[k].a, save[4 * k + 2], save[4 * k + 3]);
        }
        for (int i = 1; i <= rows; i++) glp_set_row_stat(p->lp, i, stat[i]);
        for (int j = 1; j <= cols; j++) glp_set_col_stat(p->lp, j, stat[rows + j]);
    }
    ec_free(u), ec_free(a), ec_free(save), ec_free(stat), ec_free(open);
    return rc;
}

/* Set in a solver process retrying a coalition whose first process died: the min cost without its
 * relaxation made whole (plan_fork.c). */
static int no_rounding;

void plan__min_cost_plain(void)
{
    no_rounding = 1;
}

static ec_err milp_solve(milp *p, double mip_gap, double time_limit_s)
{
    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.msg_lev = getenv("EC_PLAN_GLPK_MSG") ? GLP_MSG_ON : GLP_MSG_OFF;
    parm.presolve = GLP_ON;
    /* cuts and the feasibility pump help a small MILP; on a large one (Germany's budget: 70k rows;
     * its cheapest network: 240k columns) each pass at the root takes minutes */
    int rows = p->m->c.large_rows > 0 ? p->m->c.large_rows : PLAN_LARGE_ROWS;
    int large = glp_get_num_rows(p->lp) > rows || glp_get_num_cols(p->lp) > 5.0 * rows;
    if (!no_rounding) {
        /* The relaxation solved here (scaled: Germany's takes a minute, against minutes unscaled), a
         * whole plan rounded from it for the search to start from (GLPK's own heuristics seldom find
         * one on a corridor: Germany's cheapest network had none after ten minutes, nor, in another
         * run, one of its coalitions' smaller ones), then the search without presolve. */
        glp_smcp sp;
        glp_init_smcp(&sp);
        sp.msg_lev = parm.msg_lev == GLP_MSG_ON ? GLP_MSG_ON : GLP_MSG_OFF;
        if (time_limit_s > 0) sp.tm_lim = time_limit_s * 1000 > INT32_MAX ? INT32_MAX : (int)(time_limit_s * 1000);
        int was = glp_term_out(sp.msg_lev == GLP_MSG_ON ? GLP_ON : GLP_OFF); /* scaling speaks otherwise */
        glp_scale_prob(p->lp, GLP_SF_AUTO);
        glp_term_out(was);
        int ret = glp_simplex(p->lp, &sp);
        if (ret == 0 && glp_get_status(p->lp) == GLP_NOFEAS)
            return ec_fail(EC_EINVAL, "plan: no network of these places serves every path asked for (their "
                                      "points, power or grid are too few)");
        if (ret || glp_get_status(p->lp) != GLP_OPT)
            return ec_fail(EC_ELIMIT, "plan: the relaxation was not solved (GLPK code %d, status %d)", ret,
                           glp_get_status(p->lp));
        ec_err rc = round_incumbent(p, &sp);
        if (rc) return rc;
        ret = glp_simplex(p->lp, &sp);
        if (ret || glp_get_status(p->lp) != GLP_OPT)
            return ec_fail(EC_ELIMIT, "plan: the relaxation was not solved (GLPK code %d)", ret);
        parm.presolve = GLP_OFF;
    }
    parm.mip_gap = mip_gap > 0 ? mip_gap : 0.0;
    /* the tie-break on capex is far below the km: GLPK must see it to break ties */
    parm.tol_obj = 1e-10;
    if (time_limit_s > 0) parm.tm_lim = time_limit_s * 1000 > INT32_MAX ? INT32_MAX : (int)(time_limit_s * 1000);
    parm.cb_func = callback, parm.cb_info = p;
    parm.mir_cuts = large ? GLP_OFF : GLP_ON;
    parm.fp_heur = large ? GLP_OFF : GLP_ON;
    if (large && p->node_limit > 64 * 8) p->node_limit /= 64; /* a node there takes a second or more */
    else if (large && p->node_limit > 8) p->node_limit = 8;
    /* For diagnosis: EC_PLAN_WRITE_LP=FILE writes the MILP in CPLEX LP form, EC_PLAN_GLPK_MSG=1 lets
     * GLPK report its search on stdout. */
    if (getenv("EC_PLAN_WRITE_LP")) glp_write_lp(p->lp, NULL, getenv("EC_PLAN_WRITE_LP"));
    int ret = glp_intopt(p->lp, &parm);
    int st = glp_mip_status(p->lp);
    if (st == GLP_NOFEAS || ret == GLP_ENOPFS)
        return ec_fail(EC_EINVAL, "plan: no network of these places serves every path asked for (their points, "
                                  "power or grid are too few)");
    if (ret == GLP_ETMLIM || ret == GLP_EMIPGAP || ret == GLP_ESTOP || ret == 0) {
        p->timed_out = ret == GLP_ETMLIM;
        if (st == GLP_OPT || st == GLP_FEAS) return EC_OK;
        return ec_fail(EC_ELIMIT, "plan: the solver found no plan within the %s",
                       ret == GLP_ESTOP ? "node limit" : "time limit");
    }
    return ec_fail(EC_EINVAL, "plan: the solver failed (GLPK code %d)", ret);
}

static ec_err solution_alloc(const struct ec_plan_model *m, ec_plan_solution_t *s)
{
    memset(s, 0, sizeof *s);
    s->n = m->c.n_places;
    s->points = ec_calloc(s->n + 1, sizeof *s->points);
    s->points_exact = ec_calloc(s->n + 1, sizeof *s->points_exact);
    s->grid_kw = ec_calloc(s->n + 1, sizeof *s->grid_kw);
    s->kwh_per_day = ec_calloc(s->n + 1, sizeof *s->kwh_per_day);
    if (!(s->points && s->points_exact && s->grid_kw && s->kwh_per_day)) {
        ec_plan_solution_free(s);
        return EC_ENOMEM;
    }
    return EC_OK;
}

/* Reads the plan off the solved MILP. */
static void read_solution(milp *p, double mip_gap, ec_plan_solution_t *s)
{
    const struct ec_plan_model *m = p->m;
    const ec_plan_costs_t *c = m->c.costs;
    int green = p->mode == MODE_MIN_COST;
    double af = annuity_factor(m), annual = 0;
    for (size_t k = 0; k < m->c.n_places; k++) {
        const ec_plan_place_t *pl = &m->c.places[k];
        int u = (int)lround(glp_mip_col_val(p->lp, p->pc[k].u));
        double a = glp_mip_col_val(p->lp, p->pc[k].a);
        double g = glp_mip_col_val(p->lp, p->pc[k].g);
        if (g < 1e-9) g = 0;
        if (!green) a = (double)lround(a);
        else if (a < 1e-9) a = 0;
        /* a network built from the min cost's fractions has them rounded up (a simplex's 1 + 1e-12 is 1) */
        int whole = (int)ceil(a - 1e-6);
        int most = green ? pl->max_points * PLAN_GREEN_SITES : pl->max_points;
        s->points[k] = whole < 0 ? 0 : whole > most ? most : whole;
        s->points_exact[k] = a, s->grid_kw[k] = g;
        /* sites paid for here: the min cost counts them (several may share a place), the budget one new one */
        int sites = green ? u : u && !pl->existing;
        double capex = sites * c->site_fixed_capex + a * pl->point_capex + g * c->grid_capex_per_kw;
        s->capex += capex;
        annual += sites * c->site_opex_per_year + a * (c->point_opex_per_year + c->demand_charge_per_kw_month * 12.0 * pl->kw);
    }
    s->annual_cost = af * s->capex + annual;
    for (size_t i = 0; i < m->n_paths; i++) {
        if (!p->in[i]) continue;
        const plan_path *q = &m->paths[i];
        double y = green ? 1.0 : fmin(1.0, fmax(0.0, glp_mip_col_val(p->lp, p->y[i])));
        s->served_truck_km += y * q->flow * q->km;
        s->served_trucks += y * q->flow;
    }
    for (size_t g = 0; g < p->alloc.reps.len; g++) {
        const set_rep *r = &EC_VEC_AT(&p->alloc.reps, set_rep, g);
        const plan_path *q = &m->paths[r->path];
        for (uint32_t j = r->lo; j < r->hi; j++) {
            double z = glp_mip_col_val(p->lp, r->first + (int)(j - r->lo));
            if (z > 0) s->kwh_per_day[m->on_place[q->on_off + j]] += z;
        }
    }
    s->objective = glp_mip_obj_val(p->lp);
    /* The bound: the search's best node when it stopped at the gap or the time limit; the objective itself
     * when it ran out of nodes (then its last reported bound may be stale). */
    double bound = s->objective;
    if (p->have_bound) {
        double gap = fabs(p->bound - s->objective) / fmax(1e-9, fabs(s->objective));
        int sane = green ? p->bound <= s->objective + 1e-9 * fmax(1, fabs(s->objective))
                         : p->bound >= s->objective - 1e-9 * fmax(1, fabs(s->objective));
        if (sane && (gap <= mip_gap || glp_mip_status(p->lp) != GLP_OPT)) bound = p->bound;
    }
    s->bound = bound;
    s->gap = fabs(bound - s->objective) / fmax(1e-9, fabs(s->objective));
    s->nodes = p->nodes, s->timed_out = p->timed_out, s->rounded = p->heur != NULL;
}

ec_err ec_plan_solve_budget(const ec_plan_model *m, double budget, double mip_gap, double time_limit_s,
                            ec_plan_solution_t *out)
{
    ec_plan_solution_t s;
    ec_err rc = solution_alloc(m, &s);
    if (rc) return rc;
    milp p;
    rc = milp_build(&p, m, MODE_BUDGET, budget, NULL);
    if (!rc) rc = milp_solve(&p, mip_gap, time_limit_s);
    if (!rc) read_solution(&p, mip_gap, &s);
    milp_free(&p);
    if (rc) {
        ec_plan_solution_free(&s);
        return rc;
    }
    *out = s;
    return EC_OK;
}

ec_err ec_plan_solve_min_cost(const ec_plan_model *m, const unsigned char *members, double mip_gap,
                              double time_limit_s, ec_plan_solution_t *out)
{
    ec_plan_solution_t s;
    ec_err rc = solution_alloc(m, &s);
    if (rc) return rc;
    int any = 0;
    for (size_t i = 0; i < m->n_paths && !any; i++) {
        const plan_path *q = &m->paths[i];
        any = q->servable && (!members || (q->jurisdiction >= 0 && members[q->jurisdiction]));
    }
    if (!any) { /* nothing to serve: nothing to build */
        *out = s;
        return EC_OK;
    }
    milp p;
    rc = milp_build(&p, m, MODE_MIN_COST, -1, members);
    if (!rc) rc = milp_solve(&p, mip_gap, time_limit_s);
    if (!rc) read_solution(&p, mip_gap, &s);
    milp_free(&p);
    if (rc) {
        ec_plan_solution_free(&s);
        return rc;
    }
    *out = s;
    return EC_OK;
}
