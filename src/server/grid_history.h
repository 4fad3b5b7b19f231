/* grid_history.h - each substation's load as the hub's power sharing saw
 * it, once a minute, kept in memory for the last week (since the hub
 * started): what GET /api/v1/substations/{id}/history answers.
 *
 * Bounded: HISTORY_KEEP points per substation (a ring, the oldest dropped),
 * at most HISTORY_SUBSTATIONS_MAX substations, about 240 KiB each when full.
 * The loop's only: no locks. */
#ifndef EC_SERVER_GRID_HISTORY_H
#define EC_SERVER_GRID_HISTORY_H

#include "ecorridor/ec_base.h"

#define HISTORY_STEP_S 60
#define HISTORY_KEEP 10080 /* 7 days of minutes */
#define HISTORY_SUBSTATIONS_MAX 1024

/* One minute's figures, in kW (floats: a 100 MW substation to 10 W). */
typedef struct {
    int64_t t_s; /* the minute's start */
    float allocated_kw, held_kw, headroom_kw, base_load_kw, renewables_kw;
} history_point;

typedef struct history history;

ec_err history__new(history **out);
void history__free(history *h);
/* Keeps p for substation id, after its last point (a point of the same minute replaces it; one
 * older than the last is refused with EC_EINVAL). EC_ELIMIT when id would be one substation
 * too many; EC_ENOMEM. */
ec_err history__add(history *h, const char *id, const history_point *p);
/* Calls each(ctx, p) for id's points with from_s <= t_s < to_s, oldest first. EC_ENOTFOUND
 * when none were ever kept for id. */
ec_err history__each(const history *h, const char *id, int64_t from_s, int64_t to_s,
                     void (*each)(void *ctx, const history_point *p), void *ctx);

#endif
