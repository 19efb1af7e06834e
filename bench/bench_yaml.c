/*
 * bench_yaml.c - cairn_yaml_load against libyaml's raw event parse.
 *
 * Generates ~50 MB of realistic manifests in memory (Deployments with
 * labels, env lists and long strings, ConfigMaps, Services), then prints
 * the median MB/s of a bare yaml_parser_parse loop (the physical limit of
 * this design) and of cairn_yaml_load over the same bytes, and the ratio
 * (goal: >= 50%). Build it optimised: `make bench`.
 */
#include <time.h>
#include <yaml.h>

#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/yaml.h"

#define RUNS 5

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int generate(cairn_buf *b, size_t target)
{
	int i = 0, j, rc = 0;

	while (rc == 0 && b->len < target) {
		rc = cairn_buf_printf(
		        b,
		        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc-%d\n"
		        "  namespace: team-%d\n  labels:\n    app.kubernetes.io/name: svc-%d\n"
		        "    app.kubernetes.io/part-of: shop\n    tier: \"backend\"\n"
		        "  annotations:\n    description: >-\n      A long description of service "
		        "%d "
		        "that wraps over\n      two lines of folded text.\nspec:\n  replicas: %d\n"
		        "  selector:\n    matchLabels:\n      app.kubernetes.io/name: svc-%d\n"
		        "  template:\n    metadata:\n      labels:\n        "
		        "app.kubernetes.io/name: "
		        "svc-%d\n    spec:\n      containers:\n      - name: app\n"
		        "        image: registry.example.com/shop/svc-%d:1.%d.3\n"
		        "        args: [\"--port=8080\", \"--verbose\", \"--cache-size=512\"]\n"
		        "        ports:\n        - containerPort: 8080\n          protocol: TCP\n"
		        "        resources:\n          limits: {cpu: 500m, memory: 256Mi}\n"
		        "        env:\n",
		        i, i % 17, i, i, i % 5 + 1, i, i, i, i % 40);
		for (j = 0; rc == 0 && j < 8; j++)
			rc = cairn_buf_printf(
			        b, "        - name: VAR_%d\n          value: \"value-%d-%d\"\n", j,
			        i, j);
		if (rc == 0)
			rc = cairn_buf_printf(
			        b,
			        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-%d\n"
			        "data:\n  enabled: \"true\"\n  retries: \"3\"\n  config.yaml: |\n"
			        "    server:\n      port: 8080\n      timeout: 30s\n    feature: "
			        "on\n"
			        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: "
			        "svc-%d\nspec:\n"
			        "  selector: {app.kubernetes.io/name: svc-%d}\n  ports:\n"
			        "  - port: 80\n    targetPort: 8080\n",
			        i, i, i);
		i++;
	}
	return rc;
}

static int raw_parse(const char *data, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int done = 0, ok = 1;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (!done && ok) {
		ok = yaml_parser_parse(&p, &ev);
		if (ok) {
			done = ev.type == YAML_STREAM_END_EVENT;
			yaml_event_delete(&ev);
		}
	}
	yaml_parser_delete(&p);
	return ok ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

int main(void)
{
	cairn_buf b = CAIRN_BUF_INIT(0);
	double raw[RUNS], ours[RUNS], t, mb, r, o;
	size_t ndocs = 0;
	int i;

	if (generate(&b, (size_t)50 << 20) < 0) {
		fprintf(stderr, "bench_yaml: cannot generate input\n");
		return 1;
	}
	mb = (double)b.len / 1e6;
	for (i = 0; i < RUNS; i++) {
		json_t *docs = NULL;
		t = now();
		if (raw_parse(b.ptr, b.len) < 0)
			return 1;
		raw[i] = now() - t;
		t = now();
		if (cairn_yaml_load(&docs, NULL, b.ptr, b.len, "bench.yaml", NULL) < 0) {
			fprintf(stderr, "bench_yaml: %s\n", cairn_error_last()->message);
			return 1;
		}
		ours[i] = now() - t;
		ndocs = json_array_size(docs);
		json_decref(docs);
	}
	r = mb / median(raw, RUNS);
	o = mb / median(ours, RUNS);
	printf("yaml: input %.1f MB, %zu documents, median of %d runs\n", mb, ndocs, RUNS);
	printf("yaml: libyaml raw event parse   %8.1f MB/s\n", r);
	printf("yaml: cairn_yaml_load (json_t)  %8.1f MB/s\n", o);
	printf("yaml: ratio %.0f%% of the raw event rate (goal >= 50%%)\n", 100.0 * o / r);
	cairn_buf_dispose(&b);
	return 0;
}
