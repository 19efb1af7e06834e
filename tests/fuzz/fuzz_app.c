/*
 * fuzz_app.c - the app module's loaders: Application / AppProject /
 * ApplicationSet (through the set), Environment, and cairn.yaml. The first
 * byte picks the loader; on success the loaded objects are walked and the
 * sync-window and binding code run over them, so that every field a
 * successful load promises is there.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/app.h"
#include "cairn/config.h"
#include "cairn/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_apps(cairn_app_set *set)
{
	cairn_usec t = (cairn_usec)1700000000 * 1000000;

	if (cairn_app_set_check(set) < 0)
		return;
	for (size_t i = 0; i < cairn_app_set_count(set); i++) {
		const cairn_app *a = cairn_app_set_at(set, i);
		const cairn_app_project *p = cairn_app_set_project(set, a->project);
		int ok;
		if (a->name == NULL || a->source_count == 0 || a->sources[0].repo_url == NULL ||
		    p == NULL)
			abort();
		(void)cairn_app_sync_allowed(&ok, NULL, 0, p, a, t, 0);
	}
	(void)cairn_app_set_bind(set, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cairn_app_set *set = NULL;
	cairn_env_set *envs = NULL;
	cairn_config cfg;
	char path[64];
	FILE *f;

	if (size < 1 || size > 65536)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (cairn_app_set_new(&set) == 0 &&
		    cairn_app_set_load_data(set, (const char *)data + 1, size - 1, "f.yaml",
		                            NULL) == 0)
			walk_apps(set);
		cairn_app_set_free(set);
		break;
	case 1:
		if (cairn_env_set_load_data(&envs, (const char *)data + 1, size - 1, "e.yaml") ==
		    0) {
			for (size_t i = 0; i < cairn_env_set_count(envs); i++)
				if (cairn_env_set_at(envs, i)->name == NULL)
					abort();
			cairn_env_set_free(envs);
		}
		break;
	default:
		snprintf(path, sizeof(path), "/tmp/fuzz_app_cfg.%d.yaml", (int)getpid());
		if ((f = fopen(path, "wb")) == NULL)
			return 0;
		fwrite(data + 1, 1, size - 1, f);
		fclose(f);
		memset(&cfg, 0, sizeof(cfg));
		if (cairn_config_load(&cfg, path) == 0 && cfg.listen_api == NULL)
			abort();
		cairn_config_dispose(&cfg);
		unlink(path);
		break;
	}
	return 0;
}
