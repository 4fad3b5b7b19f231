/* progress.c - a progress bar on stderr, drawn only on a terminal. */
#include "ecorridor/ec_base.h"

#include <stdatomic.h>
#include <unistd.h>

static atomic_int progress_on = 1;

void ec_progress_set_enabled(int on)
{
    atomic_store(&progress_on, on);
}

static void draw(ec_progress *p, int final)
{
    if (!p->total) { /* size unknown: a running count */
        double secs = (double)(ec_time_mono_ns() - p->start_ns) / 1e9;
        fprintf(stderr, "\r%-24s %12llu %6.1fs%s", p->label, (unsigned long long)p->done, secs,
                final ? "\n" : "");
        fflush(stderr);
        return;
    }
    double frac = p->total ? (double)p->done / (double)p->total : 0.0;
    if (frac > 1.0) frac = 1.0;
    int width = 30, fill = (int)(frac * width + 0.5);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    double secs = (double)(ec_time_mono_ns() - p->start_ns) / 1e9;
    fprintf(stderr, "\r%-24s [%s] %3d%% %6.1fs%s", p->label, bar, (int)(frac * 100), secs,
            final ? "\n" : "");
    fflush(stderr);
}

void ec_progress_start(ec_progress *p, const char *label, uint64_t total)
{
    p->label = label;
    p->total = total;
    p->done = 0;
    p->start_ns = ec_time_mono_ns();
    p->last_draw_ns = 0;
    p->enabled = atomic_load(&progress_on) && isatty(STDERR_FILENO);
}

void ec_progress_update(ec_progress *p, uint64_t done)
{
    p->done = done;
    if (!p->enabled) return;
    int64_t now = ec_time_mono_ns();
    /* Start drawing only after half a second so quick work stays silent. */
    if (now - p->start_ns < 500000000LL || now - p->last_draw_ns < 100000000LL) return;
    p->last_draw_ns = now;
    draw(p, 0);
}

void ec_progress_finish(ec_progress *p)
{
    if (p->enabled && p->last_draw_ns) {
        if (p->total) p->done = p->total;
        draw(p, 1);
    }
}
