/* k8s.c - not written yet */
