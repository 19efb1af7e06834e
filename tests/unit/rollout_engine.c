/* rollout_engine.c - the rollout engine against a real cairn-sim: the
 * shared world (rollout_engine_world.h) and the canary tests. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/rollout/rollout_private.h"
#include "cairn/audit.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "rollout_engine_world.h"
#include "rollout_tests.h"
#include "testsim.h"
#include "testutil.h"

static test_sim sim;

void rollout_sim_start(void)
{
	static const char *const args[] = {"--pod-ready-delay", "0s", "--fail-rule",
	                                   "*:crash*=crashloop", NULL};

	test_sim_start(&sim, "rollout-sim", args, 0);
}

void rollout_sim_stop(void)
{
	test_sim_stop(&sim, SIGTERM);
}

void world_open(ro_world *w)
{
	cairn_analysis_ctx actx = CAIRN_ANALYSIS_CTX_INIT;

	memset(w, 0, sizeof(*w));
	const char *tmp = getenv("TMPDIR");

	snprintf(w->dir, sizeof(w->dir), "%s/cairn-ro-st-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(w->dir));
	ck_assert_int_eq(cairn_state_open(&w->st, w->dir, CAIRN_STATE_CREATE), 0);
	w->kube = test_sim_client(&sim, NULL, NULL);
	w->ctx.kube = w->kube;
	w->ctx.state = w->st;
	w->ctx.actor = "tester";
	actx.default_timeout_ms = 2000;
	w->ctx.analysis = actx;
	w->manifests = json_array();
}

void world_close(ro_world *w)
{
	char cmd[128];

	cairn_state_close(w->st);
	cairn_kube_client_free(w->kube);
	json_decref(w->manifests);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", w->dir);
	ck_assert_int_eq(system(cmd), 0);
}

json_t *JQ(const char *text)
{
	char *buf = strdup(text);
	json_error_t e;
	json_t *j;
	size_t i;

	for (i = 0; buf[i]; i++)
		if (buf[i] == '\'')
			buf[i] = '"';
	j = json_loads(buf, 0, &e);
	ck_assert_msg(j != NULL, "bad test JSON (%s): %s", e.text, buf);
	free(buf);
	return j;
}

json_t *make_rollout(const char *name, int replicas, const char *image, const char *strategy)
{
	char text[4096];

	snprintf(text, sizeof(text),
	         "{'apiVersion':'argoproj.io/v1alpha1','kind':'Rollout','metadata':{'name':'%s',"
	         "'namespace':'default'},'spec':{'replicas':%d,'progressDeadlineSeconds':20,"
	         "'selector':{'matchLabels':{'app':'%s'}},'template':{'metadata':{'labels':{'app':"
	         "'%s'}},'spec':{'containers':[{'name':'c','image':'%s'}]}},'strategy':%s}}",
	         name, replicas, name, name, image, strategy);
	return JQ(text);
}

void apply(ro_world *w, cairn_rollout_result *res, const char *rev, json_t *ro)
{
	int rc = cairn_rollout_apply(res, &w->ctx, "app", "env", rev, ro, w->manifests);

	ck_assert_msg(rc == 0, "apply: %s", cairn_error_last()->message);
}

/*
 * Work around a cairn-sim gap (reported): the Pods a lone ReplicaSet
 * creates are not looked at again until some other write reaches the
 * store, so they stay Pending. Any write wakes the controller; write a
 * ConfigMap before each tick.
 */
static void poke(ro_world *w)
{
	static int n;
	char v[32];
	json_t *cm;

	snprintf(v, sizeof(v), "%d", ++n);
	cm = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
	               "metadata", "name", "rollout-test-poke", "namespace", "default", "data", "n",
	               v);
	ck_assert_int_eq(cairn_kube_apply(w->kube, cm, 0, NULL), 0);
	json_decref(cm);
}

void drive(ro_world *w, cairn_rollout_result *res, const char *name, int max_ms, tick_fn each,
           void *ud)
{
	cairn_usec end = cairn_time_now() + (cairn_usec)max_ms * 1000;
	int rc;

	while (cairn_time_now() < end) {
		/* Paused with a time to come back is a timed pause: go on */
		if (res->completed || (strcmp(res->phase, "Paused") == 0 && res->next_at == 0))
			return;
		cairn_usec wait = res->next_at ? res->next_at - cairn_time_now() : 100000;
		if (wait > 100000)
			wait = 100000;
		if (wait > 0)
			usleep((useconds_t)wait);
		poke(w);
		rc = cairn_rollout_tick(res, &w->ctx, "app", "env", name);
		ck_assert_msg(rc == 0, "tick: %s", cairn_error_last()->message);
		if (each != NULL)
			each(w, res, ud);
	}
	ck_abort_msg("rollout '%s' still %s after %d ms: %s", name, res->phase, max_ms,
	             res->message);
}

void ro_hash(char out[16], const json_t *ro)
{
	ck_assert_int_eq(
	        ro_template_hash(out, json_object_get(json_object_get(ro, "spec"), "template")), 0);
}

void rs_counts(ro_world *w, const char *name, const json_t *ro, int *replicas, int *ready)
{
	cairn_kube_mapping m;
	json_t *rs = NULL;
	char h[16], rsname[128];
	int rc;

	ro_hash(h, ro);
	snprintf(rsname, sizeof(rsname), "%s-%s", name, h);
	ck_assert_int_eq(cairn_kube_mapping_for(w->kube, "apps/v1", "ReplicaSet", &m), 0);
	rc = cairn_kube_get(w->kube, &m, "default", rsname, &rs);
	*replicas = *ready = 0;
	if (rc == CAIRN_ENOTFOUND)
		return;
	ck_assert_int_eq(rc, 0);
	*replicas =
	        (int)json_integer_value(json_object_get(json_object_get(rs, "spec"), "replicas"));
	*ready = (int)json_integer_value(
	        json_object_get(json_object_get(rs, "status"), "readyReplicas"));
	json_decref(rs);
}

void svc_hash(ro_world *w, const char *svc, char *out, size_t size)
{
	cairn_kube_mapping m;
	json_t *o = NULL;

	ck_assert_int_eq(cairn_kube_mapping_for(w->kube, "v1", "Service", &m), 0);
	ck_assert_int_eq(cairn_kube_get(w->kube, &m, "default", svc, &o), 0);
	const char *h = json_string_value(json_object_get(
	        json_object_get(json_object_get(o, "spec"), "selector"), CAIRN_ROLLOUT_HASH_LABEL));
	snprintf(out, size, "%s", h ? h : "");
	json_decref(o);
}

void make_service(ro_world *w, const char *name, const char *app)
{
	json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:{s:s},s:[{s:i}]}}", "apiVersion", "v1",
	                      "kind", "Service", "metadata", "name", name, "namespace", "default",
	                      "spec", "selector", "app", app, "ports", "port", 80);

	ck_assert_int_eq(cairn_kube_apply(w->kube, o, 0, NULL), 0);
	json_decref(o);
}

/* ---- the web provider's server ---- */

static double web_value;
static int web_fd = -1;

void web_set(double v)
{
	__atomic_store(&web_value, &v, __ATOMIC_SEQ_CST);
}

static void *web_loop(void *arg)
{
	char req[4096], body[128], resp[512];
	(void)arg;

	for (;;) {
		int c = accept(web_fd, NULL, NULL);
		if (c < 0)
			return NULL;
		ssize_t n = read(c, req, sizeof(req));
		(void)n;
		double v;
		__atomic_load(&web_value, &v, __ATOMIC_SEQ_CST);
		snprintf(body, sizeof(body), "{\"value\": %g}", v);
		int len = snprintf(resp, sizeof(resp),
		                   "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		                   "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		                   strlen(body), body);
		if (write(c, resp, (size_t)len) < 0)
			(void)0;
		close(c);
	}
}

int web_start(void)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof(a);
	pthread_t t;

	web_fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(web_fd, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(web_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(web_fd, 16), 0);
	ck_assert_int_eq(getsockname(web_fd, (struct sockaddr *)&a, &al), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, web_loop, NULL), 0);
	pthread_detach(t);
	return ntohs(a.sin_port);
}

void add_template(ro_world *w, const char *name, int port, const char *conds)
{
	char text[1024];

	snprintf(
	        text, sizeof(text),
	        "{'apiVersion':'argoproj.io/v1alpha1','kind':'AnalysisTemplate','metadata':{'name':"
	        "'%s'},'spec':{'metrics':[{'name':'errors',%s,'provider':{'web':{'url':'http://"
	        "127.0.0.1:%d/','jsonPath':'{$.value}'}}}]}}",
	        name, conds, port);
	json_array_append_new(w->manifests, JQ(text));
}

/* ---- canary ---- */

typedef struct canary_watch {
	const char *name;
	const json_t *v1, *v2;
	int max_canary;
	int bad; /* canary above the planned weight */
} canary_watch;

/* At every tick: the canary never above ceil(weight x 4 / 100) of the step
 * in effect; remember the counts at each step boundary. */
static void watch_canary(ro_world *w, const cairn_rollout_result *res, void *ud)
{
	canary_watch *cw = ud;
	int c, cr, s, sr;

	rs_counts(w, cw->name, cw->v2, &c, &cr);
	rs_counts(w, cw->name, cw->v1, &s, &sr);
	if (!res->completed && c > (res->weight * 4 + 99) / 100)
		cw->bad++;
	if (c > cw->max_canary)
		cw->max_canary = c;
}

START_TEST(canary_steps_to_healthy)
{
	const char *strat = "{'canary':{'maxSurge':1,'maxUnavailable':0,'steps':[{'setWeight':25},"
	                    "{'setWeight':50},{'pause':{'duration':'500ms'}}]}}";
	json_t *v1 = make_rollout("web", 4, "app:v1", strat);
	json_t *v2 = make_rollout("web", 4, "app:v2", strat);
	canary_watch cw = {"web", v1, v2, 0, 0};
	cairn_rollout_result res;
	cairn_state_rollout *row = NULL;
	int c, cr, s, sr;
	ro_world w;

	world_open(&w);
	apply(&w, &res, "aaaaaaaa1", v1);
	ck_assert_str_eq(res.phase, "Progressing");
	drive(&w, &res, "web", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Healthy");
	rs_counts(&w, "web", v1, &s, &sr);
	ck_assert_int_eq(s, 4);
	ck_assert_int_eq(sr, 4);

	apply(&w, &res, "bbbbbbbb2", v2);
	ck_assert_str_eq(res.phase, "Progressing");
	ck_assert_int_eq(res.changed, 1);
	drive(&w, &res, "web", 20000, watch_canary, &cw);
	ck_assert_msg(res.completed && !res.aborted, "%s: %s", res.phase, res.message);
	ck_assert_str_eq(res.phase, "Healthy");
	ck_assert_int_eq(cw.bad, 0);
	ck_assert_int_eq(cw.max_canary, 4);
	rs_counts(&w, "web", v2, &c, &cr);
	rs_counts(&w, "web", v1, &s, &sr);
	ck_assert_int_eq(c, 4);
	ck_assert_int_eq(s, 0);
	ck_assert_int_eq(cairn_state_rollout_get(&row, w.st, "app", "env", "web"), 0);
	ck_assert_str_eq(row->phase, "Healthy");
	ck_assert_ptr_null(row->canary_hash);
	char h2[16];
	ro_hash(h2, v2);
	ck_assert_str_eq(row->stable_hash, h2);
	cairn_state_rollout_event **ev = NULL;
	size_t nev = 0, i, nsteps = 0;
	ck_assert_int_eq(cairn_state_rollout_events(&ev, &nev, w.st, row->id, 0, 0), 0);
	char h1[16], seq[64] = "";
	ro_hash(h1, v1);
	/* the scales in order: v1 created at 4; 25% is canary 1 then stable 3 (surge 1, none
	 * unavailable), 50% canary 2 then stable 2, 100% one Pod at a time */
	for (i = 0; i < nev; i++) {
		const char *h = json_string_value(json_object_get(ev[i]->data, "hash"));
		nsteps += strcmp(ev[i]->kind, "step") == 0;
		if (strcmp(ev[i]->kind, "scale") == 0 && h != NULL && ev[i]->at > 0)
			snprintf(seq + strlen(seq), sizeof(seq) - strlen(seq), "%s%d ",
			         strcmp(h, h2) == 0   ? "c"
			         : strcmp(h, h1) == 0 ? "s"
			                              : "?",
			         (int)json_integer_value(json_object_get(ev[i]->data, "replicas")));
	}
	ck_assert_uint_eq(nsteps, 3);
	ck_assert_str_eq(seq, "s4 c1 s3 c2 s2 c3 s1 c4 s0 ");
	cairn_state_rollout_event_list_free(ev, nev);
	cairn_state_rollout_free(row);
	json_decref(v1);
	json_decref(v2);
	world_close(&w);
}
END_TEST

/* An analysis step whose metric fails: rolled back to stable, the revision
 * marked failed, and applying it again does nothing. */
START_TEST(canary_analysis_fails)
{
	const char *strat = "{'canary':{'steps':[{'setWeight':50},{'analysis':{'templates':[{"
	                    "'templateName':'errs'}]}},{'setWeight':100}]}}";
	json_t *v1 = make_rollout("api", 2, "app:v1", strat);
	json_t *v2 = make_rollout("api", 2, "app:v2", strat);
	cairn_rollout_result res;
	cairn_state_rollout *row = NULL;
	int c, cr, s, sr, port = web_start();
	ro_world w;

	world_open(&w);
	add_template(&w, "errs", port, "'successCondition':'result < 0.1'");
	web_set(0.5);
	apply(&w, &res, "1111111aaa", v1);
	drive(&w, &res, "api", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Healthy");
	apply(&w, &res, "2222222bbb", v2);
	drive(&w, &res, "api", 20000, NULL, NULL);
	ck_assert_int_eq(res.aborted, 1);
	ck_assert_str_eq(res.phase, "Degraded");
	ck_assert_msg(strstr(res.message, "rolled back from 2222222: analysis 'errs' metric "
	                                  "'errors' Failed (last value 0.5)") != NULL,
	              "%s", res.message);
	rs_counts(&w, "api", v2, &c, &cr);
	rs_counts(&w, "api", v1, &s, &sr);
	ck_assert_int_eq(c, 0);
	ck_assert_int_eq(s, 2);
	ck_assert_int_eq(cairn_state_rollout_get(&row, w.st, "app", "env", "api"), 0);
	ck_assert_str_eq(row->failed_revision, "2222222bbb");
	ck_assert_ptr_nonnull(strstr(row->failed_reason, "Failed"));
	cairn_state_rollout_free(row);

	/* the same revision again: reported, nothing written */
	web_set(0.0);
	apply(&w, &res, "2222222bbb", v2);
	ck_assert_int_eq(res.changed, 0);
	ck_assert_ptr_nonnull(strstr(res.message, "was rolled back"));
	rs_counts(&w, "api", v2, &c, &cr);
	ck_assert_int_eq(c, 0);

	/* retry: starts again and, the metric now good, completes */
	ck_assert_int_eq(cairn_state_rollout_request(w.st, "app", "env", "api", "retry"), 0);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "api"), 0);
	drive(&w, &res, "api", 20000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Healthy");
	rs_counts(&w, "api", v2, &c, &cr);
	ck_assert_int_eq(c, 2);
	json_decref(v1);
	json_decref(v2);
	world_close(&w);
}
END_TEST

/* Neither condition true: Inconclusive, the rollout pauses for a person;
 * promote goes on. */
START_TEST(canary_inconclusive_pauses)
{
	const char *strat = "{'canary':{'steps':[{'setWeight':50},{'analysis':{'templates':[{"
	                    "'templateName':'errs'}]}}]}}";
	json_t *v1 = make_rollout("inc", 2, "app:v1", strat);
	json_t *v2 = make_rollout("inc", 2, "app:v2", strat);
	cairn_rollout_result res;
	int port = web_start();
	ro_world w;

	world_open(&w);
	add_template(&w, "errs", port,
	             "'successCondition':'result < 0.1','failureCondition':'result > 0.9'");
	web_set(0.5);
	apply(&w, &res, "v1", v1);
	drive(&w, &res, "inc", 15000, NULL, NULL);
	apply(&w, &res, "v2", v2);
	drive(&w, &res, "inc", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Paused");
	ck_assert_int_eq(res.completed, 0);
	ck_assert_ptr_nonnull(strstr(res.message, "Inconclusive"));
	ck_assert_int_eq(res.weight, 50);
	/* ticks without a decision stay paused */
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "inc"), 0);
	ck_assert_str_eq(res.phase, "Paused");
	ck_assert_int_eq(cairn_state_rollout_request(w.st, "app", "env", "inc", "promote"), 0);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "inc"), 0);
	drive(&w, &res, "inc", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Healthy");
	json_decref(v1);
	json_decref(v2);
	world_close(&w);
}
END_TEST

/* An indefinite pause waits for promote; abort rolls back; pause/resume. */
START_TEST(canary_requests)
{
	const char *strat = "{'canary':{'steps':[{'setWeight':50},{'pause':{}},{'setWeight':75}]}}";
	json_t *v1 = make_rollout("req", 2, "app:v1", strat);
	json_t *v2 = make_rollout("req", 2, "app:v2", strat);
	json_t *v3 = make_rollout("req", 2, "app:v3", strat);
	cairn_rollout_result res;
	int c, cr, s, sr;
	ro_world w;

	world_open(&w);
	apply(&w, &res, "v1", v1);
	drive(&w, &res, "req", 15000, NULL, NULL);
	apply(&w, &res, "v2", v2);
	drive(&w, &res, "req", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Paused");
	ck_assert_int_eq(res.step, 1);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "req"), 0);
	ck_assert_str_eq(res.phase, "Paused");
	ck_assert_int_eq(cairn_state_rollout_request(w.st, "app", "env", "req", "promote"), 0);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "req"), 0);
	ck_assert_int_ge(res.step, 2);
	/* pause by request holds it; resume lets it go on */
	ck_assert_int_eq(cairn_state_rollout_request(w.st, "app", "env", "req", "pause"), 0);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "req"), 0);
	ck_assert_str_eq(res.phase, "Paused");
	ck_assert_str_eq(res.message, "paused by request");
	ck_assert_int_eq(cairn_state_rollout_request(w.st, "app", "env", "req", "resume"), 0);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "req"), 0);
	drive(&w, &res, "req", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Healthy");

	/* v3 paused at 50%, aborted by request: back to v2 at full size */
	apply(&w, &res, "v3", v3);
	drive(&w, &res, "req", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Paused");
	ck_assert_int_eq(cairn_state_rollout_request(w.st, "app", "env", "req", "abort"), 0);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "req"), 0);
	ck_assert_str_eq(res.phase, "Degraded");
	ck_assert_int_eq(res.aborted, 1);
	ck_assert_ptr_nonnull(strstr(res.message, "aborted by request"));
	rs_counts(&w, "req", v3, &c, &cr);
	rs_counts(&w, "req", v2, &s, &sr);
	ck_assert_int_eq(c, 0);
	ck_assert_int_eq(s, 2);
	/* promote-full after a retry: straight to 100% */
	ck_assert_int_eq(cairn_state_rollout_request(w.st, "app", "env", "req", "retry"), 0);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "req"), 0);
	ck_assert_int_eq(cairn_state_rollout_request(w.st, "app", "env", "req", "promote-full"), 0);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "req"), 0);
	drive(&w, &res, "req", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Healthy");
	rs_counts(&w, "req", v3, &c, &cr);
	ck_assert_int_eq(c, 2);
	json_decref(v1);
	json_decref(v2);
	json_decref(v3);
	world_close(&w);
}
END_TEST

/* The engine stopped after writing an intent and before knowing it done:
 * the next tick issues the same write and goes on without overshooting. */
START_TEST(canary_resume_intent)
{
	const char *strat = "{'canary':{'maxSurge':1,'maxUnavailable':0,'steps':[{'setWeight':25},"
	                    "{'pause':{}},{'setWeight':50},{'pause':{}}]}}";
	json_t *v1 = make_rollout("res", 4, "app:v1", strat);
	json_t *v2 = make_rollout("res", 4, "app:v2", strat);
	canary_watch cw = {"res", v1, v2, 0, 0};
	cairn_state_rollout *row = NULL;
	cairn_rollout_result res;
	int c, cr;
	ro_world w;

	world_open(&w);
	apply(&w, &res, "v1", v1);
	drive(&w, &res, "res", 15000, NULL, NULL);
	apply(&w, &res, "v2", v2);
	drive(&w, &res, "res", 15000, watch_canary, &cw);
	ck_assert_int_eq(res.step, 1);
	rs_counts(&w, "res", v2, &c, &cr);
	ck_assert_int_eq(c, 1);
	/* as if killed inside the write of the last scale: done false */
	ck_assert_int_eq(cairn_state_rollout_get(&row, w.st, "app", "env", "res"), 0);
	json_t *intent = json_object_get(row->status, "intent");
	ck_assert_ptr_nonnull(intent);
	ck_assert_str_eq(json_string_value(json_object_get(intent, "op")), "scale");
	json_object_set_new(row->status, "done", json_false());
	ck_assert_int_eq(cairn_state_rollout_put(NULL, w.st, row), 0);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "res"), 0);
	ck_assert_int_eq(res.changed, 1); /* the write was issued again */
	ck_assert_int_eq(res.step, 1);    /* and nothing moved past it */
	ck_assert_str_eq(res.phase, "Paused");
	rs_counts(&w, "res", v2, &c, &cr);
	ck_assert_int_le(c, 1);
	cairn_state_rollout_free(row);
	row = NULL;
	ck_assert_int_eq(cairn_state_rollout_get(&row, w.st, "app", "env", "res"), 0);
	ck_assert(json_is_true(json_object_get(row->status, "done")));
	cairn_state_rollout_free(row);
	ck_assert_int_eq(cairn_state_rollout_request(w.st, "app", "env", "res", "promote"), 0);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "res"), 0);
	drive(&w, &res, "res", 15000, watch_canary, &cw);
	ck_assert_int_eq(res.step, 3);
	ck_assert_int_eq(cw.bad, 0);
	ck_assert_int_eq(cw.max_canary, 2);
	json_decref(v1);
	json_decref(v2);
	world_close(&w);
}
END_TEST

/* The number of events of `kind` (and Service `svc` when given) of rollout `name`. */
static int count_events(ro_world *w, const char *name, const char *kind, const char *svc)
{
	cairn_state_rollout *row = NULL;
	cairn_state_rollout_event **ev = NULL;
	size_t n = 0;
	int count = 0;

	ck_assert_int_eq(cairn_state_rollout_get(&row, w->st, "app", "env", name), 0);
	ck_assert_int_eq(cairn_state_rollout_events(&ev, &n, w->st, row->id, 0, 0), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(ev[i]->kind, kind) == 0 &&
		    (svc == NULL ||
		     strcmp(json_string_value(json_object_get(ev[i]->data, "service")), svc) == 0))
			count++;
	cairn_state_rollout_event_list_free(ev, n);
	cairn_state_rollout_free(row);
	return count;
}

/* "HASH APP MARK" of a Service, as the integration tests print it. */
static void svc_state(ro_world *w, const char *svc, char *out, size_t size)
{
	cairn_kube_mapping m;
	json_t *o = NULL, *sel;
	const char *mark, *hash, *app;

	ck_assert_int_eq(cairn_kube_mapping_for(w->kube, "v1", "Service", &m), 0);
	ck_assert_int_eq(cairn_kube_get(w->kube, &m, "default", svc, &o), 0);
	sel = json_object_get(json_object_get(o, "spec"), "selector");
	mark = json_string_value(
	        json_object_get(json_object_get(json_object_get(o, "metadata"), "annotations"),
	                        CAIRN_ROLLOUT_MARKER));
	hash = json_string_value(json_object_get(sel, CAIRN_ROLLOUT_HASH_LABEL));
	app = json_string_value(json_object_get(sel, "app"));
	snprintf(out, size, "%s %s %s", hash ? hash : "-", app ? app : "-", mark ? mark : "-");
	json_decref(o);
}

/*
 * canaryService and stableService: both on the new hash for the first
 * version; stable on the stable's and canary on the canary's while a canary
 * runs (marked); both on the new stable at completion (unmarked), each
 * written once per change; the intent carries the whole selector (an
 * atomic map). Killed between the last selector write and its done mark:
 * the next tick issues that write again, once, and nothing else.
 */
START_TEST(canary_services_resume)
{
	const char *strat = "{'canary':{'canaryService':'cs-canary','stableService':'cs-stable',"
	                    "'steps':[{'setWeight':25},{'pause':{}}]}}";
	json_t *v1 = make_rollout("cs", 4, "app:v1", strat);
	json_t *v2 = make_rollout("cs", 4, "app:v2", strat);
	cairn_state_rollout *row = NULL;
	cairn_rollout_result res;
	char h1[16], h2[16], want[64], got[64];
	ro_world w;

	ro_hash(h1, v1);
	ro_hash(h2, v2);
	world_open(&w);
	make_service(&w, "cs-canary", "cs");
	make_service(&w, "cs-stable", "cs");
	apply(&w, &res, "v1", v1);
	drive(&w, &res, "cs", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Healthy");
	snprintf(want, sizeof(want), "%s cs -", h1);
	svc_state(&w, "cs-stable", got, sizeof(got));
	ck_assert_str_eq(got, want);
	svc_state(&w, "cs-canary", got, sizeof(got));
	ck_assert_str_eq(got, want);

	apply(&w, &res, "v2", v2);
	drive(&w, &res, "cs", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Paused");
	ck_assert_int_eq(res.weight, 25);
	snprintf(want, sizeof(want), "%s cs cs", h1);
	svc_state(&w, "cs-stable", got, sizeof(got));
	ck_assert_str_eq(got, want);
	snprintf(want, sizeof(want), "%s cs cs", h2);
	svc_state(&w, "cs-canary", got, sizeof(got));
	ck_assert_str_eq(got, want);
	/* a tick in the pause writes nothing */
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "cs"), 0);
	ck_assert_int_eq(res.changed, 0);

	ck_assert_int_eq(cairn_state_rollout_request(w.st, "app", "env", "cs", "promote"), 0);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "cs"), 0);
	drive(&w, &res, "cs", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Healthy");
	snprintf(want, sizeof(want), "%s cs -", h2);
	svc_state(&w, "cs-stable", got, sizeof(got));
	ck_assert_str_eq(got, want);
	svc_state(&w, "cs-canary", got, sizeof(got));
	ck_assert_str_eq(got, want);
	/* v1: first (unmarked, then marked) and last (unmarked); v2: marked, unmarked */
	ck_assert_int_eq(count_events(&w, "cs", "switch", "cs-canary"), 4);

	/* as if killed after the last write's intent, before the cluster saw it */
	ck_assert_int_eq(cairn_state_rollout_get(&row, w.st, "app", "env", "cs"), 0);
	json_t *intent = json_object_get(row->status, "intent");
	json_t *sel = json_object_get(json_object_get(json_object_get(intent, "obj"), "spec"),
	                              "selector");
	ck_assert_str_eq(json_string_value(json_object_get(intent, "op")), "select");
	ck_assert_str_eq(json_string_value(json_object_get(intent, "service")), "cs-canary");
	ck_assert_str_eq(json_string_value(json_object_get(sel, "app")), "cs");
	ck_assert_str_eq(json_string_value(json_object_get(sel, CAIRN_ROLLOUT_HASH_LABEL)), h2);
	json_object_set_new(row->status, "done", json_false());
	ck_assert_int_eq(cairn_state_rollout_put(NULL, w.st, row), 0);
	cairn_state_rollout_free(row);
	row = NULL;
	json_t *before =
	        json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}},s:{s:{s:s,s:s}}}", "apiVersion", "v1",
	                  "kind", "Service", "metadata", "name", "cs-canary", "namespace",
	                  "default", "annotations", CAIRN_ROLLOUT_MARKER, "cs", "spec", "selector",
	                  "app", "cs", CAIRN_ROLLOUT_HASH_LABEL, h2);
	ck_assert_int_eq(ro_ssa(w.kube, before), 0);
	json_decref(before);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "cs"), 0);
	ck_assert_int_eq(res.changed, 1);
	ck_assert_str_eq(res.phase, "Healthy");
	svc_state(&w, "cs-canary", got, sizeof(got));
	ck_assert_str_eq(got, want); /* unmarked again */
	ck_assert_int_eq(count_events(&w, "cs", "switch", "cs-canary"), 4);
	ck_assert_int_eq(count_events(&w, "cs", "resume", NULL), 1);
	ck_assert_int_eq(cairn_state_rollout_get(&row, w.st, "app", "env", "cs"), 0);
	ck_assert(json_is_true(json_object_get(row->status, "done")));
	cairn_state_rollout_free(row);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "cs"), 0);
	ck_assert_int_eq(res.changed, 0);
	json_decref(v1);
	json_decref(v2);
	world_close(&w);
}
END_TEST

/*
 * A canaryService the cluster lacks: the rollout stops before any scale,
 * Degraded with a message naming the Service and the field, and no Service
 * is created; once the Service exists the next tick goes on. An abort
 * points the canaryService back at the stable.
 */
START_TEST(canary_service_missing_then_abort)
{
	const char *strat = "{'canary':{'canaryService':'cm-canary','stableService':'cm-stable',"
	                    "'steps':[{'setWeight':50},{'pause':{}}]}}";
	json_t *v1 = make_rollout("cm", 2, "app:v1", strat);
	json_t *v2 = make_rollout("cm", 2, "app:v2", strat);
	cairn_state_rollout *row = NULL;
	cairn_rollout_result res;
	char h1[16], h2[16], want[64], got[64];
	cairn_kube_mapping m;
	json_t *o = NULL;
	int c, cr;
	ro_world w;

	ro_hash(h1, v1);
	ro_hash(h2, v2);
	world_open(&w);
	make_service(&w, "cm-stable", "cm");
	ck_assert_int_eq(cairn_rollout_apply(&res, &w.ctx, "app", "env", "v1", v1, w.manifests),
	                 CAIRN_ENOTFOUND);
	ck_assert_error_contains("Service 'cm-canary' named by spec.strategy.canary.canaryService "
	                         "of Rollout 'cm' does not exist in namespace 'default'");
	rs_counts(&w, "cm", v1, &c, &cr);
	ck_assert_int_eq(c, 0);
	ck_assert_int_eq(cairn_kube_mapping_for(w.kube, "v1", "Service", &m), 0);
	ck_assert_int_eq(cairn_kube_get(w.kube, &m, "default", "cm-canary", &o), CAIRN_ENOTFOUND);
	cairn_error_clear();
	ck_assert_int_eq(cairn_state_rollout_get(&row, w.st, "app", "env", "cm"), 0);
	ck_assert_str_eq(row->phase, "Degraded");
	ck_assert_ptr_nonnull(strstr(row->message, "cm-canary"));
	ck_assert_int_gt(row->next_at, 0); /* tried again */
	cairn_state_rollout_free(row);

	make_service(&w, "cm-canary", "cm");
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "cm"), 0);
	drive(&w, &res, "cm", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Healthy");

	apply(&w, &res, "v2", v2);
	drive(&w, &res, "cm", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Paused");
	snprintf(want, sizeof(want), "%s cm cm", h2);
	svc_state(&w, "cm-canary", got, sizeof(got));
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(cairn_state_rollout_request(w.st, "app", "env", "cm", "abort"), 0);
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "cm"), 0);
	ck_assert(res.aborted);
	snprintf(want, sizeof(want), "%s cm -", h1);
	svc_state(&w, "cm-canary", got, sizeof(got));
	ck_assert_str_eq(got, want);
	svc_state(&w, "cm-stable", got, sizeof(got));
	ck_assert_str_eq(got, want);
	json_decref(v1);
	json_decref(v2);
	world_close(&w);
}
END_TEST

/* Crash-looping canary Pods: Degraded, aborted at once. */
START_TEST(canary_degraded_aborts)
{
	const char *strat = "{'canary':{'steps':[{'setWeight':50},{'pause':{}}]}}";
	json_t *v1 = make_rollout("deg", 2, "app:v1", strat);
	json_t *v2 = make_rollout("deg", 2, "app:crash2", strat);
	cairn_rollout_result res;
	int c, cr;
	ro_world w;

	world_open(&w);
	apply(&w, &res, "v1", v1);
	drive(&w, &res, "deg", 15000, NULL, NULL);
	apply(&w, &res, "v2", v2);
	drive(&w, &res, "deg", 15000, NULL, NULL);
	ck_assert_str_eq(res.phase, "Degraded");
	ck_assert_msg(strstr(res.message, "canary Degraded: pod") != NULL, "%s", res.message);
	ck_assert_ptr_nonnull(strstr(res.message, "CrashLoopBackOff"));
	rs_counts(&w, "deg", v2, &c, &cr);
	ck_assert_int_eq(c, 0);
	json_decref(v1);
	json_decref(v2);
	world_close(&w);
}
END_TEST

/* Collect "action:event" of the audit entries. */
static int audit_cb(void *ud, const cairn_audit_entry *e)
{
	char *out = ud;
	const char *ev =
	        json_string_value(json_object_get(json_object_get(e->json, "details"), "event"));

	snprintf(out + strlen(out), 2048 - strlen(out), "%s:%s ", e->action, ev ? ev : "-");
	return 0;
}

/* Background analysis from step 1 fails while the rollout waits at a
 * pause: aborted; the measurements and the abort are in the audit trail. */
START_TEST(canary_background_analysis_audited)
{
	const char *strat = "{'canary':{'analysis':{'templates':[{'templateName':'bg'}],"
	                    "'startingStep':1},'steps':[{'setWeight':50},{'pause':{}}]}}";
	json_t *v1 = make_rollout("bga", 2, "app:v1", strat);
	json_t *v2 = make_rollout("bga", 2, "app:v2", strat);
	cairn_audit_opts ao = CAIRN_AUDIT_OPTS_INIT;
	cairn_audit_signer *signer = NULL;
	cairn_audit *log = NULL;
	cairn_rollout_result res;
	char adir[128], seen[2048] = "";
	int c, cr, port = web_start();
	ro_world w;

	world_open(&w);
	snprintf(adir, sizeof(adir), "%s/audit", w.dir);
	ck_assert_int_eq(cairn_audit_signer_generate(&signer, "test"), 0);
	ao.state_dir = adir;
	ao.writable = 1;
	ao.signer = signer;
	ck_assert_int_eq(cairn_audit_open(&log, &ao, NULL), 0);
	w.ctx.audit = log;
	add_template(&w, "bg", port,
	             "'interval':'200ms','count':100,'failureLimit':1,'failureCondition':'result > "
	             "0.2'");
	web_set(0.0);
	apply(&w, &res, "v1", v1);
	drive(&w, &res, "bga", 15000, NULL, NULL);
	apply(&w, &res, "v2", v2);
	/* not drive(): the pause is indefinite but the analysis keeps ticking */
	for (int i = 0; i < 100 && res.step < 1; i++) {
		usleep(100000);
		poke(&w);
		ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "bga"), 0);
	}
	ck_assert_str_eq(res.phase, "Paused"); /* at the indefinite pause, analysis running */
	ck_assert_int_gt(res.next_at, 0);      /* the analysis' next measurement */
	web_set(0.9);
	for (int i = 0; i < 50 && !res.completed; i++) {
		usleep(100000);
		ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "bga"), 0);
	}
	ck_assert_str_eq(res.phase, "Degraded");
	ck_assert_msg(strstr(res.message, "analysis 'bg' metric 'errors' Failed (last value 0.9)"),
	              "%s", res.message);
	rs_counts(&w, "bga", v2, &c, &cr);
	ck_assert_int_eq(c, 0);
	cairn_audit_close(log);
	cairn_audit_signer_free(signer);
	ck_assert_int_eq(cairn_audit_foreach(adir, NULL, NULL, audit_cb, seen), 0);
	ck_assert_msg(strstr(seen, "rollout.step:start ") != NULL, "%s", seen);
	ck_assert_msg(strstr(seen, ":measurement ") != NULL, "%s", seen);
	ck_assert_msg(strstr(seen, "rollout.aborted:abort ") != NULL, "%s", seen);
	json_decref(v1);
	json_decref(v2);
	world_close(&w);
}
END_TEST

/* A simulator whose Pods take a minute to become ready. */
static void slow_sim_start(void)
{
	static const char *const args[] = {"--pod-ready-delay", "60s", NULL};

	test_sim_start(&sim, "rollout-slow-sim", args, 0);
}

/* No ready Pod for progressDeadlineSeconds (20 s, on a fixed clock): the
 * rollout aborts with ProgressDeadlineExceeded and the revision is marked. */
START_TEST(progress_deadline_aborts)
{
	json_t *v1 = make_rollout("dl", 2, "app:v1", "{'canary':{'steps':[{'setWeight':50}]}}");
	cairn_state_rollout *row = NULL;
	cairn_rollout_result res;
	cairn_usec t0 = cairn_time_now();
	ro_world w;

	world_open(&w);
	w.ctx.now = t0;
	apply(&w, &res, "d1d1d1d1", v1);
	ck_assert_str_eq(res.phase, "Progressing");
	ck_assert_int_gt(res.next_at, 0);
	w.ctx.now = t0 + 10 * 1000000LL;
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "dl"), 0);
	ck_assert_str_eq(res.phase, "Progressing");
	w.ctx.now = t0 + 21 * 1000000LL;
	ck_assert_int_eq(cairn_rollout_tick(&res, &w.ctx, "app", "env", "dl"), 0);
	ck_assert_str_eq(res.phase, "Degraded");
	ck_assert_int_eq(res.aborted, 1);
	ck_assert_msg(strstr(res.message, "rolled back from d1d1d1d: ProgressDeadlineExceeded: "
	                                  "ReplicaSet 'dl-") != NULL,
	              "%s", res.message);
	ck_assert_ptr_nonnull(strstr(res.message, "made no progress for 20 s"));
	ck_assert_int_eq(cairn_state_rollout_get(&row, w.st, "app", "env", "dl"), 0);
	ck_assert_str_eq(row->failed_revision, "d1d1d1d1");
	cairn_state_rollout_free(row);
	json_decref(v1);
	world_close(&w);
}
END_TEST

void rollout_engine_tests(Suite *s)
{
	TCase *tc = tcase_create("engine_canary");

	tcase_add_unchecked_fixture(tc, rollout_sim_start, rollout_sim_stop);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, canary_steps_to_healthy);
	tcase_add_test(tc, canary_analysis_fails);
	tcase_add_test(tc, canary_inconclusive_pauses);
	tcase_add_test(tc, canary_requests);
	tcase_add_test(tc, canary_resume_intent);
	tcase_add_test(tc, canary_services_resume);
	tcase_add_test(tc, canary_service_missing_then_abort);
	tcase_add_test(tc, canary_degraded_aborts);
	tcase_add_test(tc, canary_background_analysis_audited);
	suite_add_tcase(s, tc);

	tc = tcase_create("engine_deadline");
	tcase_add_unchecked_fixture(tc, slow_sim_start, rollout_sim_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, progress_deadline_aborts);
	suite_add_tcase(s, tc);
}
