/* test_sim_api.c - the Check suite of cairn-sim's API side: resource table,
 * discovery, OpenAPI serving, CRD validation and fault decisions. */
#include <string.h>

#include "sim_api_tests.h"
#include "testutil.h"

json_t *sim_api_get(const sim_registry *r, const char *dir, const char *path, const char *accept,
                    sim_http_reply *reply, int *handled)
{
	memset(reply, 0, sizeof(*reply));
	cairn_buf_init(&reply->body, 0);
	*handled = sim_discovery_serve(r, dir, path, accept, reply);
	if (!*handled || !reply->body.ptr)
		return NULL;
	return json_loadb(reply->body.ptr, reply->body.len, 0, NULL);
}

int main(void)
{
	Suite *s = suite_create("sim_api");

	sim_api_registry_tests(s);
	sim_api_crd_tests(s);
	return test_run_suite(s);
}
