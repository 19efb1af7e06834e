/*
 * cmd_rollout.c - `cairn rollout list|get|promote|pause|resume|abort|retry`:
 * the rollouts' persisted state machines as the state store holds them
 * (docs/state.md), and the operator's requests to them. A request is only
 * written (cairn_state_rollout_request()); the engine consumes it at its
 * next tick, in cairnd or in a foreground `cairn app sync`.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn/audit.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/state.h"
#include "cli.h"

/* Events `get` shows by default (the newest ones). */
#define ROLLOUT_EVENTS_SHOWN 20
/* How often --watch looks again (microseconds). */
#define ROLLOUT_WATCH_US 500000
/* Longest line of an event's details before it is cut. */
#define ROLLOUT_DETAIL_MAX 400

struct rollout_args {
	const char *sub;
	const char *app, *env, *name, *output, *state_dir, *config;
	int full, watch;
	long events;
};

static void rollout_usage(FILE *out)
{
	fprintf(out,
	        "usage: cairn rollout list [--app APP] [--env ENV] [-o json]\n"
	        "       cairn rollout get APP [--env ENV] [--name ROLLOUT] [-o json] [--watch]\n"
	        "       cairn rollout promote APP [--full] [--env ENV] [--name ROLLOUT]\n"
	        "       cairn rollout pause|resume|abort|retry APP [--env ENV] [--name ROLLOUT]\n\n"
	        "Show the rollouts (canary, blue-green) Cairn runs and send them requests.\n"
	        "A request is recorded in the state store; cairnd acts on it at its next\n"
	        "tick (or `cairn app sync` runs it in the foreground).\n\n"
	        "APP alone names the app's only rollout; with several, add --env/--name.\n\n"
	        "options:\n"
	        "  --app APP, --env ENV  only these rows (list); which rollout (others)\n"
	        "  --name ROLLOUT        the Rollout object's name\n"
	        "  -o, --output json     JSON instead of text (list, get)\n"
	        "  --watch               get: follow the rollout until it completes\n"
	        "  --events N            get: the newest N events (default %d, 0: all)\n"
	        "  --full                promote: skip the remaining steps and analyses\n"
	        "  --state-dir DIR       the state directory (default $CAIRN_STATE_DIR,\n"
	        "                        the config's stateDir, or the default)\n"
	        "  --config FILE         cairn.yaml (default $CAIRN_CONFIG)\n\n"
	        "Exit status: 0 success, 2 error.\n",
	        ROLLOUT_EVENTS_SHOWN);
}

/* Options that only some subcommands take. */
static int check_args(const struct rollout_args *a)
{
	if (strcmp(a->sub, "list") != 0 && a->app == NULL)
		return cairn_error_set(CAIRN_EINVAL, "rollout %s needs an APP", a->sub);
	if (a->full && strcmp(a->sub, "promote") != 0)
		return cairn_error_set(CAIRN_EINVAL, "--full goes with promote only");
	if (a->watch && strcmp(a->sub, "get") != 0)
		return cairn_error_set(CAIRN_EINVAL, "--watch goes with get only");
	return 0;
}

static int parse_opts(struct rollout_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"app", required_argument, NULL, 'a'},
	        {"env", required_argument, NULL, 'e'},
	        {"name", required_argument, NULL, 'n'},
	        {"output", required_argument, NULL, 'o'},
	        {"watch", no_argument, NULL, 'w'},
	        {"events", required_argument, NULL, 'N'},
	        {"full", no_argument, NULL, 'f'},
	        {"state-dir", required_argument, NULL, 's'},
	        {"config", required_argument, NULL, 'c'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	optind = 1;
	a->events = ROLLOUT_EVENTS_SHOWN;
	while ((c = getopt_long(argc, argv, ":o:wh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			a->app = optarg;
			break;
		case 'e':
			a->env = optarg;
			break;
		case 'n':
			a->name = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
				return cairn_error_set(
				        CAIRN_EINVAL,
				        "unknown output format '%s' (expected json or "
				        "text)",
				        optarg);
			a->output = strcmp(optarg, "json") == 0 ? optarg : NULL;
			break;
		case 'w':
			a->watch = 1;
			break;
		case 'N':
			a->events = strtol(optarg, &end, 10);
			if (*end != '\0' || a->events < 0)
				return cairn_error_set(CAIRN_EINVAL, "bad --events value '%s'",
				                       optarg);
			break;
		case 'f':
			a->full = 1;
			break;
		case 's':
			a->state_dir = optarg;
			break;
		case 'c':
			a->config = optarg;
			break;
		case 'h':
			rollout_usage(stdout);
			return 1; /* done: help shown */
		case ':':
			return cairn_error_set(CAIRN_EINVAL, "option '%s' needs a value",
			                       argv[optind - 1]);
		default:
			return cairn_error_set(CAIRN_EINVAL, "unknown option '%s'",
			                       argv[optind - 1]);
		}
	}
	for (; optind < argc; optind++) {
		if (strcmp(a->sub, "list") != 0 && a->app == NULL)
			a->app = argv[optind];
		else
			return cairn_error_set(CAIRN_EINVAL, "unexpected argument '%s'",
			                       argv[optind]);
	}
	return check_args(a);
}

/*
 * The state directory as the other commands find it: --state-dir,
 * $CAIRN_STATE_DIR, the stateDir of the config (--config or $CAIRN_CONFIG),
 * else the default. No CAIRN_STATE_CREATE: a missing database is reported.
 */
static int open_state(cairn_state **out, const struct rollout_args *a)
{
	const char *flag = a->state_dir ? a->state_dir : getenv("CAIRN_STATE_DIR");
	const char *cfgp = a->config ? a->config : getenv("CAIRN_CONFIG");
	cairn_config cfg = {0};
	char *dir = NULL;
	int rc;

	if (flag != NULL && *flag == '\0')
		flag = NULL;
	if (flag == NULL && cfgp != NULL) {
		rc = cairn_config_load(&cfg, cfgp);
		if (rc < 0) {
			cairn_config_dispose(&cfg);
			return cairn_error_prefix("reading the configuration: ");
		}
		flag = cfg.audit.state_dir;
	}
	rc = cairn_audit_state_dir(&dir, flag);
	cairn_config_dispose(&cfg);
	if (rc == 0)
		rc = cairn_state_open(out, dir, 0);
	free(dir);
	return rc;
}

/* "5s", "3m", "2h", "4d": how long ago `t` was. */
static void fmt_age(char *out, size_t size, cairn_usec t, cairn_usec now)
{
	int64_t s = (now - t) / 1000000;

	if (t <= 0)
		snprintf(out, size, "-");
	else if (s < 120)
		snprintf(out, size, "%llds", (long long)(s < 0 ? 0 : s));
	else if (s < 120 * 60)
		snprintf(out, size, "%lldm", (long long)(s / 60));
	else if (s < 48 * 3600)
		snprintf(out, size, "%lldh", (long long)(s / 3600));
	else
		snprintf(out, size, "%lldd", (long long)(s / 86400));
}

static void fmt_time(char out[CAIRN_TIME_RFC3339_LEN], cairn_usec t)
{
	if (t <= 0)
		snprintf(out, CAIRN_TIME_RFC3339_LEN, "-");
	else
		cairn_time_format(out, t);
}

static const char *or_dash(const char *s)
{
	return s != NULL && *s != '\0' ? s : "-";
}

/* The Rollout's steps as the engine recorded them, or NULL. */
static const json_t *steps_of(const cairn_state_rollout *r)
{
	const json_t *steps = json_object_get(r->status, "steps");
	const json_t *ro = json_object_get(r->status, "rollout");

	if (json_is_array(steps))
		return steps;
	steps = json_object_get(
	        json_object_get(json_object_get(json_object_get(ro, "spec"), "strategy"), "canary"),
	        "steps");
	return json_is_array(steps) ? steps : NULL;
}

/* "2/5" (1-based, of the steps in the status), "3" without them, "-" for none. */
static void fmt_step(char *out, size_t size, const cairn_state_rollout *r)
{
	const json_t *steps = steps_of(r);

	if (r->step < 0)
		snprintf(out, size, "-");
	else if (steps != NULL)
		snprintf(out, size, "%d/%zu", r->step + 1, json_array_size(steps));
	else
		snprintf(out, size, "%d", r->step + 1);
}

static json_t *time_json(cairn_usec t)
{
	char buf[CAIRN_TIME_RFC3339_LEN];

	if (t <= 0)
		return json_null();
	cairn_time_format(buf, t);
	return json_string(buf);
}

static json_t *rollout_json(const cairn_state_rollout *r)
{
	const json_t *steps = steps_of(r);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s?, s:s?, s:s?, s:i, s:i, s:s?, "
	                      "s:s?, s:s?, s:s?}",
	                      "app", r->app, "env", r->env, "name", r->name, "namespace",
	                      r->namespace_, "strategy", r->strategy, "phase", r->phase, "revision",
	                      r->revision, "stableHash", r->stable_hash, "canaryHash",
	                      r->canary_hash, "step", r->step, "weight", r->weight, "message",
	                      r->message, "request", r->request, "failedRevision",
	                      r->failed_revision, "failedReason", r->failed_reason);

	if (o == NULL)
		return NULL;
	if (steps != NULL)
		json_object_set_new(o, "steps", json_integer((json_int_t)json_array_size(steps)));
	json_object_set_new(o, "startedAt", time_json(r->started_at));
	json_object_set_new(o, "updatedAt", time_json(r->updated_at));
	json_object_set_new(o, "nextAt", time_json(r->next_at));
	return o;
}

static void print_json(json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;

	printf("%s\n", s ? s : "null");
	free(s);
	fflush(stdout);
}

static int do_list(const struct rollout_args *a)
{
	cairn_state *st = NULL;
	cairn_state_rollout **v = NULL;
	size_t n = 0;
	cairn_usec now = cairn_time_now();
	int rc = open_state(&st, a);

	if (rc == CAIRN_ENOTFOUND) {
		cairn_error_clear(); /* no state yet: no rollouts */
		rc = 0;
	} else if (rc == 0) {
		rc = cairn_state_rollout_list(&v, &n, st, a->app, a->env);
	}
	if (rc != 0)
		goto out;
	if (a->output != NULL) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, rollout_json(v[i]));
		print_json(arr);
		json_decref(arr);
		goto out;
	}
	printf("%-16s %-10s %-16s %-9s %-11s %-5s %-6s %-9s %-5s %s\n", "APP", "ENV", "ROLLOUT",
	       "STRATEGY", "PHASE", "STEP", "WEIGHT", "REVISION", "AGE", "MESSAGE");
	for (size_t i = 0; i < n; i++) {
		const cairn_state_rollout *r = v[i];
		char step[32], age[16], weight[8];

		fmt_step(step, sizeof(step), r);
		fmt_age(age, sizeof(age), r->started_at, now);
		snprintf(weight, sizeof(weight), "%d%%", r->weight);
		printf("%-16s %-10s %-16s %-9s %-11s %-5s %-6s %-9.7s %-5s %s\n", r->app,
		       or_dash(r->env), r->name, r->strategy, r->phase, step, weight,
		       or_dash(r->revision), age, r->message ? r->message : "");
	}
out:
	cairn_state_rollout_list_free(v, n);
	cairn_state_close(st);
	return rc;
}

/*
 * The one rollout APP (with --env/--name) names. Several candidates are an
 * error that lists them, so that the operator never acts on a guess.
 */
static int find_one(cairn_state_rollout **out, cairn_state *st, const struct rollout_args *a)
{
	cairn_state_rollout **v = NULL, *hit = NULL;
	size_t n = 0, matches = 0;
	char list[1024] = "";
	size_t used = 0;
	int rc = cairn_state_rollout_list(&v, &n, st, a->app, a->env);

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (a->name != NULL && strcmp(v[i]->name, a->name) != 0)
			continue;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used,
			                         "%s--env '%s' --name '%s'", matches ? ", " : "",
			                         v[i]->env, v[i]->name);
		matches++;
		if (hit == NULL) {
			hit = v[i];
			v[i] = NULL;
		}
	}
	cairn_state_rollout_list_free(v, n);
	if (matches == 1) {
		*out = hit;
		return 0;
	}
	cairn_state_rollout_free(hit);
	if (matches == 0)
		return cairn_error_set(CAIRN_ENOTFOUND, "no rollout of application '%s'%s%s%s%s%s",
		                       a->app, a->env ? " in environment '" : "",
		                       a->env ? a->env : "", a->env ? "'" : "",
		                       a->name ? " named " : "", a->name ? a->name : "");
	return cairn_error_set(CAIRN_EINVAL,
	                       "application '%s' has %zu rollouts: choose one with %s", a->app,
	                       matches, list);
}

/* One event as one line: time, kind, and its data (measurements spelled out). */
static void print_event(const cairn_state_rollout_event *e)
{
	char at[CAIRN_TIME_RFC3339_LEN], *s = NULL;
	json_t *d = json_deep_copy(e->data);

	fmt_time(at, e->at);
	json_object_del(d, "rollout");
	if (strcmp(e->kind, "measurement") == 0) {
		const json_t *v = json_object_get(d, "value");
		char *vs = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		const char *metric = json_string_value(json_object_get(d, "metric"));
		const char *phase = json_string_value(json_object_get(d, "phase"));
		const char *query = json_string_value(json_object_get(d, "query"));

		printf("  %s  %-11s %s %s value=%s%s%.*s%s\n", at, e->kind, or_dash(metric),
		       or_dash(phase), vs ? vs : "-", query ? " query='" : "", ROLLOUT_DETAIL_MAX,
		       query ? query : "", query ? "'" : "");
		free(vs);
	} else {
		s = d != NULL && json_object_size(d) > 0
		            ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS)
		            : NULL;
		printf("  %s  %-11s %.*s\n", at, e->kind, ROLLOUT_DETAIL_MAX, s ? s : "");
	}
	free(s);
	json_decref(d);
}

/* The steps with a marker on the current one. */
static void print_steps(const cairn_state_rollout *r)
{
	const json_t *steps = steps_of(r), *step;
	size_t i;

	if (steps == NULL || json_array_size(steps) == 0)
		return;
	printf("Steps:\n");
	json_array_foreach(steps, i, step)
	{
		char *s = json_dumps(step, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		const char *mark = (int)i < r->step ? "done" : (int)i == r->step ? "->" : "";

		printf("  %-4s %2zu  %.*s\n", mark, i + 1, ROLLOUT_DETAIL_MAX, s ? s : "?");
		free(s);
	}
}

static void print_rollout(const cairn_state_rollout *r, cairn_state_rollout_event **ev, size_t n)
{
	char step[32], started[CAIRN_TIME_RFC3339_LEN], updated[CAIRN_TIME_RFC3339_LEN],
	        next[CAIRN_TIME_RFC3339_LEN], age[16];

	fmt_step(step, sizeof(step), r);
	fmt_time(started, r->started_at);
	fmt_time(updated, r->updated_at);
	fmt_time(next, r->next_at);
	fmt_age(age, sizeof(age), r->started_at, cairn_time_now());
	printf("Rollout:     %s\nNamespace:   %s\nApp:         %s\nEnvironment: %s\n"
	       "Strategy:    %s\nPhase:       %s\nMessage:     %s\nStep:        %s\n"
	       "Weight:      canary %d%%, stable %d%%\nRevision:    %s\n"
	       "Stable hash: %s\nCanary hash: %s\n",
	       r->name, or_dash(r->namespace_), r->app, or_dash(r->env), r->strategy, r->phase,
	       or_dash(r->message), step, r->weight, 100 - r->weight, or_dash(r->revision),
	       or_dash(r->stable_hash), or_dash(r->canary_hash));
	if (r->failed_revision != NULL)
		printf("Failed:      %s: %s\n", r->failed_revision, or_dash(r->failed_reason));
	if (r->request != NULL)
		printf("Request:     %s (pending)\n", r->request);
	printf("Started:     %s (%s ago)\nUpdated:     %s\nNext tick:   %s\n", started, age,
	       updated, next);
	print_steps(r);
	printf("Events:%s\n", n == 0 ? " none" : "");
	for (size_t i = 0; i < n; i++)
		print_event(ev[i]);
}

/* The newest `limit` events (0: all), oldest first: a second query starts after the skipped ones. */
static int newest_events(cairn_state_rollout_event ***out, size_t *count, cairn_state *st,
                         int64_t rid, long limit)
{
	cairn_state_rollout_event **v = NULL;
	size_t n = 0;
	int64_t after;
	int rc = cairn_state_rollout_events(&v, &n, st, rid, 0, 0);

	if (rc != 0 || limit <= 0 || n <= (size_t)limit) {
		if (rc == 0) {
			*out = v;
			*count = n;
		}
		return rc;
	}
	after = v[n - (size_t)limit - 1]->id;
	cairn_state_rollout_event_list_free(v, n);
	return cairn_state_rollout_events(out, count, st, rid, after, 0);
}

static json_t *events_json(cairn_state_rollout_event **ev, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr,
		                      json_pack("{s:I, s:o, s:s, s:O}", "id", (json_int_t)ev[i]->id,
		                                "at", time_json(ev[i]->at), "kind", ev[i]->kind,
		                                "data", ev[i]->data));
	return arr;
}

static int is_final(const cairn_state_rollout *r)
{
	return strcmp(r->phase, "Healthy") == 0 || strcmp(r->phase, "Degraded") == 0;
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/*
 * --watch: on a terminal, redraw the whole view every 500 ms; otherwise
 * print the view once, then each new event and each change of phase, step
 * or weight as its own line. Either way it ends when the rollout reaches
 * Healthy or Degraded, or on Ctrl-C. Takes `r`.
 */
static int watch(cairn_state *st, const struct rollout_args *a, cairn_state_rollout *r)
{
	int tty = isatty(STDOUT_FILENO);
	int64_t last = 0;
	int rc = 0, first = 1;
	struct sigaction sa = {0};

	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	for (;;) {
		cairn_state_rollout_event **ev = NULL;
		cairn_state_rollout *nr = NULL;
		size_t n = 0;

		if (tty || first)
			rc = newest_events(&ev, &n, st, r->id, a->events);
		else
			rc = cairn_state_rollout_events(&ev, &n, st, r->id, last, 0);
		if (rc != 0)
			break;
		if (tty)
			printf("\033[H\033[2J");
		if (tty || first)
			print_rollout(r, ev, n);
		else
			for (size_t i = 0; i < n; i++)
				print_event(ev[i]);
		if (n > 0 && ev[n - 1]->id > last)
			last = ev[n - 1]->id;
		cairn_state_rollout_event_list_free(ev, n);
		first = 0;
		fflush(stdout);
		if (is_final(r) || interrupted)
			break;
		sleep_us(ROLLOUT_WATCH_US);
		if (interrupted)
			break;
		rc = cairn_state_rollout_get(&nr, st, r->app, r->env, r->name);
		if (rc != 0)
			break;
		if (!tty && (strcmp(nr->phase, r->phase) != 0 || nr->step != r->step ||
		             nr->weight != r->weight))
			printf("phase %s, step %d, weight %d%%%s%s\n", nr->phase, nr->step + 1,
			       nr->weight, nr->message ? ": " : "", nr->message ? nr->message : "");
		cairn_state_rollout_free(r);
		r = nr;
	}
	cairn_state_rollout_free(r);
	return rc;
}

static int do_get(const struct rollout_args *a)
{
	cairn_state *st = NULL;
	cairn_state_rollout *r = NULL;
	cairn_state_rollout_event **ev = NULL;
	size_t n = 0;
	int rc = open_state(&st, a);

	if (rc == 0)
		rc = find_one(&r, st, a);
	if (rc != 0)
		goto out;
	if (a->watch && a->output == NULL) {
		rc = watch(st, a, r);
		r = NULL;
		goto out;
	}
	rc = newest_events(&ev, &n, st, r->id, a->events);
	if (rc != 0)
		goto out;
	if (a->output != NULL) {
		json_t *o = rollout_json(r);

		json_object_set(o, "status", r->status ? r->status : json_null());
		json_object_set_new(o, "events", events_json(ev, n));
		print_json(o);
		json_decref(o);
	} else {
		print_rollout(r, ev, n);
	}
out:
	cairn_state_rollout_event_list_free(ev, n);
	cairn_state_rollout_free(r);
	cairn_state_close(st);
	return rc;
}

/* What each request does, for the confirmation line. */
static const char *request_effect(const char *req)
{
	if (strcmp(req, "promote") == 0)
		return "go on to the next step";
	if (strcmp(req, "promote-full") == 0)
		return "skip the remaining steps and analyses and promote fully";
	if (strcmp(req, "pause") == 0)
		return "hold at the current step";
	if (strcmp(req, "resume") == 0)
		return "continue from the current step";
	if (strcmp(req, "abort") == 0)
		return "abort: traffic back to stable, canary scaled down";
	return "roll out the failed revision again";
}

static int do_request(const struct rollout_args *a)
{
	const char *req = a->full ? "promote-full" : a->sub;
	cairn_state *st = NULL;
	cairn_state_rollout *r = NULL;
	int rc = open_state(&st, a);

	if (rc == 0)
		rc = find_one(&r, st, a);
	if (rc == 0)
		rc = cairn_state_rollout_request(st, r->app, r->env, r->name, req);
	if (rc != 0)
		goto out;
	printf("requested %s of rollout '%s' (app '%s', env '%s'): %s\n", req, r->name, r->app,
	       r->env, request_effect(req));
	if (r->request != NULL && strcmp(r->request, req) != 0)
		printf("it replaces the pending request '%s'\n", r->request);
	printf("cairnd picks it up at its next tick (or `cairn app sync %s%s%s` runs it in the "
	       "foreground)\n",
	       r->app, r->env[0] ? " --env " : "", r->env);
out:
	cairn_state_rollout_free(r);
	cairn_state_close(st);
	return rc;
}

int cmd_rollout(int argc, char **argv)
{
	static const char *const subs[] = {"list",   "get",   "promote", "pause",
	                                   "resume", "abort", "retry"};
	struct rollout_args a = {0};
	size_t i;
	int rc;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		rollout_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i]) == 0)
			break;
	if (i == sizeof(subs) / sizeof(subs[0])) {
		fprintf(stderr,
		        "cairn rollout: unknown subcommand '%s' (expected list, get, promote, "
		        "pause, "
		        "resume, abort or retry)\n",
		        argv[1]);
		return CLI_EXIT_USAGE;
	}
	a.sub = argv[1];
	rc = parse_opts(&a, argc - 1, argv + 1);
	if (rc == 1)
		return CLI_EXIT_OK;
	if (rc == 0) {
		if (strcmp(a.sub, "list") == 0)
			rc = do_list(&a);
		else if (strcmp(a.sub, "get") == 0)
			rc = do_get(&a);
		else
			rc = do_request(&a);
	}
	if (rc < 0) {
		fprintf(stderr, "cairn rollout %s: %s\n", a.sub, cairn_error_last()->message);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}
