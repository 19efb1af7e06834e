/* k8s_mergekeys.c - not written yet */
