/* ocpp_cs.h - what the central system answers each message of a charge
 * point (ocpp_cs.c), over what it is given: the charge point's live state,
 * the store, the power sharing and the options. It knows nothing of the
 * connections (ocpp.c), which call it. */
#ifndef EC_SERVER_OCPP_CS_H
#define EC_SERVER_OCPP_CS_H

#include "ecorridor/ec_engine.h"
#include "ecorridor/ec_store.h"
#include "http.h"

typedef struct ocpp_cs ocpp_cs;
struct smart;

#define OCPP_MESSAGE_MAX (64u << 10) /* bytes of one OCPP-J message */
#define OCPP_MAX_CONNECTORS EC_CP_CONNECTORS_MAX /* ec_session.h: the register checks a charger's connectors against it */


typedef struct {
    int heartbeat_s;             /* the interval BootNotification gives */
    int call_timeout_s;          /* a call to a charger that gets no answer */
    const char *auto_register;   /* operator id unknown charge points join; NULL: refused */
} ocpp_opts_t;

/* One connected charge point. */
typedef struct ocpp_cp {
    ocpp_cs *cs;
    ec_ws *ws;
    uint64_t serial;  /* this connection's number, to tell it from a later one */
    char id[EC_CP_ID_MAX + 1];
    int registered;   /* known to the register */
    int closing;      /* closed by the central system: what it still sends is dropped */
    uint64_t credentials_tag; /* what it was admitted with (ocpp_auth__credentials_tag) */
    int accepted;     /* registered, or its BootNotification was accepted */
    char operator_id[EC_REG_ID_MAX + 1];
    char site_id[EC_REG_ID_MAX + 1];
    int connectors;
    char evse_uid[OCPP_MAX_CONNECTORS + 1][EC_REG_ID_MAX + 1]; /* [connector]: the site EVSE it is */
    char status[OCPP_MAX_CONNECTORS + 1][16];                 /* live, [0] the charge point */
    char site_status[OCPP_MAX_CONNECTORS + 1][16];            /* the OCPI status last seen in its site EVSE */
    uint64_t site_status_gen; /* env.sites_gen when site_status was last true */
    char error_code[OCPP_MAX_CONNECTORS + 1][24];
    char firmware_status[24], diagnostics_status[24];
    int64_t connected_s, last_seen_s;
    struct {
        int active;
        char id[40];
        char action[32];
        uint64_t http_serial; /* the REST request waiting for the answer */
        int64_t deadline_ms;
        /* an internal call's: the answer's status and payload (NULL for an error or a timeout) */
        void (*done)(void *ctx, const char *cp, uint64_t serial, const char *status, const ec_json *payload);
        void *done_ctx;
        int availability;      /* a ChangeAvailability's type: 0 another call, 1 Inoperative, 2 Operative */
        int availability_connector;
    } call;
} ocpp_cp;

/* What the answers need of the central system. ocpp.c owns it; the turn's
 * write transaction that ocpp__begin_write opens, ocpp.c commits (and clears
 * writing). */
typedef struct {
    ec_store *store;
    struct smart *smart;     /* the live power sharing */
    const ocpp_opts_t *opts;
    int writing;             /* this turn's store transaction is open */
    ec_vec site_statuses;    /* ocpp_site_status waiting for the turn's commit */
    ec_vec sites_written;    /* char[EC_REG_ID_MAX + 1]: the sites whose EVSE statuses this turn changed */
    uint64_t sites_gen;      /* counts writes of sites by others than their chargers (the API, imports) */
    /* Charge point cp (on connection serial) reads its site's document again at its next status
     * of connector: what it sent could not be written. */
    void (*forget_status)(void *ctx, const char *cp, uint64_t serial, int connector);
    void *ctx;
} ocpp_env;

/* A status a site EVSE takes from its connector, waiting for the turn's
 * commit: the chargers of a site send theirs together (after a restart of
 * the hub, all of them at once), and each write of a site rewrites its whole
 * document, so the statuses of one turn are written once per site. */
typedef struct {
    char site_id[EC_REG_ID_MAX + 1];
    char evse_uid[EC_REG_ID_MAX + 1];
    char status[16];               /* OCPI */
    char cp_id[EC_CP_ID_MAX + 1];  /* whose cache of it to forget if it cannot be written */
    uint64_t serial;
    int connector;
    int64_t now_s;
} ocpp_site_status;
#define OCPP_SITE_STATUS_MAX 4096 /* waiting at once; more are written at once, in the same transaction */
/* Writes the statuses waiting into the open transaction, one read and one
 * write per site, and forgets them; ocpp.c calls it before the commit. */
void ocpp__write_site_statuses(ocpp_env *e);

/* What a handler decided. */
typedef struct {
    ec_buf *out;        /* the CALLRESULT payload (a JSON object) */
    const char *error;  /* a CALLERROR code instead; NULL: none */
    char why[256];
    int wrote;          /* it wrote to the store: the reply waits for the commit */
} ocpp_reply;

/* Answers action (payload already schema-checked) from cp at now_s. */
void ocpp__handle(ocpp_env *e, ocpp_cp *cp, const char *action, const ec_json *payload, int64_t now_s,
                  ocpp_reply *r);
/* Opens the turn's write transaction (once per turn); 0 when open. */
int ocpp__begin_write(ocpp_env *e);

/* cp accepted a ChangeAvailability of connector (0: the whole charge point)
 * at now_s (ocpp_availability.c): Inoperative opens an outage with reason
 * operator_request for that port, Operative (operative 1) closes the open
 * ones. Written into the turn's transaction when one is open. */
void ocpp__availability_accepted(ocpp_env *e, const ocpp_cp *cp, int connector, int operative, int64_t now_s);

#endif
