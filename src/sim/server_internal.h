/*
 * src/sim/server_internal.h - between server.c and handlers.c only.
 */
#ifndef CAIRN_SIM_SERVER_INTERNAL_H
#define CAIRN_SIM_SERVER_INTERNAL_H

#include <microhttpd.h>

#include "sim.h"

/* Start the HTTPS daemon on 127.0.0.1:port; *bound gets the port. */
struct MHD_Daemon *sim_server_start(sim_server *srv, const sim_tls *t, int port, int *bound);
/* Queue a chunked watch response (takes w and the bytes of initial). */
enum MHD_Result sim_server_stream(sim_server *srv, struct MHD_Connection *conn, sim_watch *w,
                                  cairn_buf *initial, int timeout_s, int bookmarks,
                                  int drop_after_ms, int table);
/* Rewrite the event line at buf[from..] to carry a one-row Table. */
void sim_event_to_table(cairn_buf *buf, int include_object, size_t from);
/* Serve a ?watch=1 request (handlers.c). */
enum MHD_Result sim_handle_watch(sim_server *srv, const sim_request *rq, int drop_after_ms);
/* An ERROR event line carrying a Status. */
void sim_watch_error_event(cairn_buf *out, int code, const char *reason, const char *message);
/* The resource a path names (NULL when none) and whether it names one object. */
const sim_resource *sim_resource_of_path(sim_server *srv, const char *path);
int sim_path_is_named(const char *path);
/* A Status body for an injected fault. */
void sim_reply_fault(sim_http_reply *reply, int code);

/* Deletion and garbage collection (gc.c); see the comments there. */
int sim_gc_delete(sim_server *srv, const sim_key *k, const char *policy, json_t **out, int *gone);
void sim_gc_remove(sim_server *srv, const sim_key *k);
void sim_gc_after_update(sim_server *srv, const sim_key *k);
/* fieldValidation of a write (fieldval.c); see the comment there. */
int sim_field_validation(sim_server *srv, const sim_resource *res, const char *mode, json_t *obj,
                         sim_http_reply *reply);

#endif
