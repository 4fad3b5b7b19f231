/* plan_fork.c - many coalitions' cheapest networks solved at once, each in a
 * child process.
 *
 * The cost game asks for dozens of cheapest networks, each a MILP that GLPK
 * solves on one core; on Germany one takes from seconds to a minute and a
 * half. A child forked from the planner has the model already built (its
 * pages shared until written) and its own copy of GLPK's state, so nothing
 * need be thread-safe: it solves one coalition, writes the solution down a
 * pipe and exits. The parent keeps at most `workers` children (up to 64) at
 * a time and reads each answer whole, as it comes, before it reaps the child. The answers are the
 * same as solving in turn: every solve is deterministic (docs/plan.md).
 *
 * Only for a process whose other threads are idle: fork copies the calling
 * thread alone. */
#include "plan_internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* What a child writes first; the arrays of n places follow. */
typedef struct {
    int32_t rc;
    char msg[256];
    double served_truck_km, served_trucks, objective, bound, gap, capex, annual_cost;
    int32_t nodes, timed_out, rounded;
} answer_head;

/* A model with fewer paths has MILPs that take less than a process (a fork of a large process,
 * under a sanitizer most of all): Rhine-Ruhr's 600 take a fraction of a second each. */
#define PLAN_FORK_MIN_PATHS 2000

typedef struct {
    pid_t pid;
    int fd;
    size_t job;
    int plain; /* a retry: without the relaxation made whole */
} child;

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w, n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        c += r, n -= (size_t)r;
    }
    return 0;
}

static void child_solve(const ec_plan_model *m, const unsigned char *members, double gap, double limit, int fd, int plain)
{
    /* should GLPK stop the process on an internal error, its message is not lost in a buffer */
    setvbuf(stdout, NULL, _IONBF, 0);
    if (plain) plan__min_cost_plain();
    else if (getenv("EC_PLAN_TEST_SOLVER_ABORT")) abort(); /* the tests' process that dies */
    ec_plan_solution_t s;
    memset(&s, 0, sizeof s);
    answer_head h;
    memset(&h, 0, sizeof h);
    ec_err rc = ec_plan_solve_min_cost(m, members, gap, limit, &s);
    h.rc = rc;
    if (rc) snprintf(h.msg, sizeof h.msg, "%s", ec_errmsg_of(rc));
    h.served_truck_km = s.served_truck_km, h.served_trucks = s.served_trucks, h.objective = s.objective;
    h.bound = s.bound, h.gap = s.gap, h.capex = s.capex, h.annual_cost = s.annual_cost;
    h.nodes = s.nodes, h.timed_out = s.timed_out, h.rounded = s.rounded;
    size_t n = m->c.n_places;
    int bad = write_all(fd, &h, sizeof h);
    if (!rc && !bad)
        bad = write_all(fd, s.points, n * sizeof *s.points) || write_all(fd, s.points_exact, n * sizeof(double)) ||
              write_all(fd, s.grid_kw, n * sizeof(double)) || write_all(fd, s.kwh_per_day, n * sizeof(double));
    _exit(bad ? 2 : 0);
}

/* The child reaped, its answer not read (it was killed: the call has already failed). */
static void discard(child *c)
{
    close(c->fd);
    int st;
    while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR) {}
}

/* The answer of c into out; the child reaped. *died when it ended without one (then *how says why). */
static ec_err collect(const ec_plan_model *m, child *c, ec_plan_solution_t *out, int *died, char *how, size_t how_n)
{
    size_t n = m->c.n_places;
    answer_head h;
    ec_err rc = EC_OK;
    memset(out, 0, sizeof *out);
    *died = 0;
    if (read_all(c->fd, &h, sizeof h)) {
        close(c->fd);
        int st = 0;
        while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR) {}
        *died = 1;
        if (WIFSIGNALED(st)) snprintf(how, how_n, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
        else snprintf(how, how_n, "exit code %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return ec_fail(EC_EIO, "plan: the solver process of network %zu%s ended without an answer: %s", c->job,
                       c->plain ? " (a retry without the relaxation made whole)" : "", how);
    } else if (h.rc) {
        h.msg[sizeof h.msg - 1] = 0;
        rc = ec_fail((ec_err)h.rc, "%s", h.msg);
    } else {
        out->n = n;
        out->points = ec_calloc(n + 1, sizeof *out->points);
        out->points_exact = ec_calloc(n + 1, sizeof(double));
        out->grid_kw = ec_calloc(n + 1, sizeof(double));
        out->kwh_per_day = ec_calloc(n + 1, sizeof(double));
        if (!(out->points && out->points_exact && out->grid_kw && out->kwh_per_day)) rc = EC_ENOMEM;
        else if (read_all(c->fd, out->points, n * sizeof *out->points) || read_all(c->fd, out->points_exact, n * sizeof(double)) ||
                 read_all(c->fd, out->grid_kw, n * sizeof(double)) || read_all(c->fd, out->kwh_per_day, n * sizeof(double)))
            rc = ec_fail(EC_EIO, "plan: a solver process's answer was cut short");
        out->served_truck_km = h.served_truck_km, out->served_trucks = h.served_trucks, out->objective = h.objective;
        out->bound = h.bound, out->gap = h.gap, out->capex = h.capex, out->annual_cost = h.annual_cost;
        out->nodes = h.nodes, out->timed_out = h.timed_out, out->rounded = h.rounded;
    }
    discard(c);
    if (rc) ec_plan_solution_free(out);
    return rc;
}

ec_err plan__min_cost_many(const ec_plan_model *m, const unsigned char *const *members, size_t n_jobs, double mip_gap,
                           double time_limit_s, int workers, ec_plan_solution_t *out,
                           void (*done)(void *ctx, size_t job), void *ctx)
{
    for (size_t i = 0; i < n_jobs; i++) memset(&out[i], 0, sizeof out[i]);
    size_t least = m->c.fork_min_paths ? m->c.fork_min_paths : PLAN_FORK_MIN_PATHS;
    if (workers < 2 || n_jobs < 2 || m->n_paths < least) { /* in turn, here */
        for (size_t i = 0; i < n_jobs; i++) {
            ec_err rc = ec_plan_solve_min_cost(m, members[i], mip_gap, time_limit_s, &out[i]);
            if (rc) {
                for (size_t j = 0; j < i; j++) ec_plan_solution_free(&out[j]);
                return rc;
            }
            if (done) done(ctx, i);
        }
        return EC_OK;
    }
    if (workers > 64) workers = 64;
    child *kids = ec_calloc((size_t)workers, sizeof *kids);
    size_t *again = ec_calloc(n_jobs + 1, sizeof *again); /* jobs whose process died, to retry plain */
    if (!kids || !again) {
        ec_free(kids), ec_free(again);
        return EC_ENOMEM;
    }
    size_t next = 0, got = 0, n_again = 0;
    int alive = 0;
    ec_err rc = EC_OK;
    fflush(NULL); /* a child must not write the parent's buffered output again */
    while (got < n_jobs) {
        while (!rc && alive < workers && (next < n_jobs || n_again)) {
            int plain = n_again > 0;
            size_t job = plain ? again[--n_again] : next;
            int fd[2];
            if (pipe(fd)) {
                rc = ec_fail(EC_EIO, "plan: pipe: %s", strerror(errno));
                break;
            }
            pid_t parent = getpid(), pid = fork();
            if (!plain) next++;
            if (pid < 0) { /* no process to spare (memory, limits): this one solves it, here */
                close(fd[0]), close(fd[1]);
                ec_log(EC_LOG_WARN, "plan: fork: %s: solving a network in this process", strerror(errno));
                rc = ec_plan_solve_min_cost(m, members[job], mip_gap, time_limit_s, &out[job]);
                got++;
                if (!rc && done) done(ctx, job);
                continue;
            }
            if (pid == 0) {
                /* ends with the planner, should it be killed */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent) _exit(3);
                close(fd[0]);
                for (int k = 0; k < alive; k++) close(kids[k].fd);
                child_solve(m, members[job], mip_gap, time_limit_s, fd[1], plain);
            }
            close(fd[1]);
            kids[alive++] = (child){pid, fd[0], job, plain};
        }
        if (!alive) {
            if (rc || (next >= n_jobs && !n_again)) break;
            continue;
        }
        if (rc) /* the call has failed: the others' answers are not wanted */
            for (int k = 0; k < alive; k++) kill(kids[k].pid, SIGKILL);
        /* the first child with something to say; it writes its whole answer, then exits */
        struct pollfd pf[64];
        int np = alive < 64 ? alive : 64, ready = 0;
        for (int i = 0; i < np; i++) pf[i] = (struct pollfd){kids[i].fd, POLLIN, 0};
        while (poll(pf, (nfds_t)np, -1) < 0 && errno == EINTR) {}
        while (ready < np - 1 && !pf[ready].revents) ready++;
        child c = kids[ready];
        memmove(kids + ready, kids + ready + 1, (size_t)(alive - ready - 1) * sizeof *kids);
        alive--;
        if (rc) { /* killed: reading its answer must not replace the message */
            got++;
            discard(&c);
            continue;
        }
        int died;
        char how[96];
        rc = collect(m, &c, &out[c.job], &died, how, sizeof how);
        if (died && !c.plain) { /* once more, on GLPK's own search alone */
            ec_log(EC_LOG_WARN, "plan: the solver process of network %zu ended without an answer (%s): solving it again "
                   "without its relaxation made whole", c.job, how);
            again[n_again++] = c.job;
            rc = EC_OK;
            continue;
        }
        got++;
        if (!rc && done) done(ctx, c.job); /* on failure the others are stopped at the loop's top */
    }
    /* the children still running after a failure */
    for (int k = 0; k < alive; k++) kill(kids[k].pid, SIGKILL), discard(&kids[k]);
    ec_free(kids), ec_free(again);
    if (rc)
        for (size_t i = 0; i < n_jobs; i++) ec_plan_solution_free(&out[i]);
    return rc;
}
