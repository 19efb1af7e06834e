/*
 * k8s_mergekeys.c - how the built-in Kubernetes kinds merge their fields,
 * as one static table: for each definition and field, the strategic-merge
 * patch strategy and merge key and the server-side apply list type and
 * list-map keys. These are public facts of the Kubernetes API (v1.28); the
 * unit test core_k8s checks the table against the published swagger.json in
 * both directions, so a row that is wrong or missing fails the build.
 *
 * Also here: the atomic maps (objects that server-side apply replaces
 * whole and owns as one field; the same unit test checks them against the
 * document), which definition is the top of each built-in kind, and the
 * object-valued fields that lead from a kind down to the rows (a walker
 * needs them to know the type of a nested object).
 */
#include "cairn/k8s.h"

#define API "io.k8s.api."
#define ADM API "admissionregistration."
#define FC API "flowcontrol."
#define RES API "resource.v1alpha2."
#define META "io.k8s.apimachinery.pkg.apis.meta.v1."
#define CRD "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."
#define AGG "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1."

#define MERGE CAIRN_PATCH_MERGE
#define RETAIN CAIRN_PATCH_RETAIN_KEYS

/* A list of objects merged by key; the trailing arguments are the list-map
 * keys (none for lists keyed only in strategic merge patches). */
#define KEYED(t, f, flags, key, lt, item, ...)                                                     \
	{                                                                                          \
		t, f, CAIRN_MERGE_BY_KEY, flags, key, lt, {__VA_ARGS__}, item                      \
	}
/* A list of scalars merged as a set. */
#define SET(t, f, flags, lt)                                                                       \
	{                                                                                          \
		t, f, CAIRN_MERGE_SET, flags, NULL, lt, {NULL}, NULL                               \
	}
/* A conditions list keyed by "type" in both patch styles. */
#define CONDS(t, item) KEYED(t, "conditions", MERGE, "type", CAIRN_LIST_MAP, item, "type")
/* A conditions list keyed by "type" for strategic merge only. */
#define CONDS_SMP(t, item) KEYED(t, "conditions", MERGE, "type", CAIRN_LIST_UNSPECIFIED, item)
/* A conditions list keyed by "type" for server-side apply only. */
#define CONDS_SSA(t, item) KEYED(t, "conditions", 0, NULL, CAIRN_LIST_MAP, item, "type")

#define NONE CAIRN_LIST_UNSPECIFIED
#define LMAP CAIRN_LIST_MAP
#define LSET CAIRN_LIST_SET

/* Sorted by type, then field (strcmp order): lookups bisect. */
static const cairn_merge_key merge_keys[] = {
        KEYED(ADM "v1.MutatingWebhook", "matchConditions", MERGE, "name", LMAP,
              ADM "v1.MatchCondition", "name"),
        KEYED(ADM "v1.MutatingWebhookConfiguration", "webhooks", MERGE, "name", NONE,
              ADM "v1.MutatingWebhook"),
        KEYED(ADM "v1.ValidatingWebhook", "matchConditions", MERGE, "name", LMAP,
              ADM "v1.MatchCondition", "name"),
        KEYED(ADM "v1.ValidatingWebhookConfiguration", "webhooks", MERGE, "name", NONE,
              ADM "v1.ValidatingWebhook"),
        SET(ADM "v1alpha1.ValidatingAdmissionPolicyBindingSpec", "validationActions", 0, LSET),
        KEYED(ADM "v1alpha1.ValidatingAdmissionPolicySpec", "matchConditions", MERGE, "name", LMAP,
              ADM "v1alpha1.MatchCondition", "name"),
        KEYED(ADM "v1alpha1.ValidatingAdmissionPolicySpec", "variables", MERGE, "name", LMAP,
              ADM "v1alpha1.Variable", "name"),
        CONDS_SSA(ADM "v1alpha1.ValidatingAdmissionPolicyStatus", META "Condition"),
        SET(ADM "v1beta1.ValidatingAdmissionPolicyBindingSpec", "validationActions", 0, LSET),
        KEYED(ADM "v1beta1.ValidatingAdmissionPolicySpec", "matchConditions", MERGE, "name", LMAP,
              ADM "v1beta1.MatchCondition", "name"),
        KEYED(ADM "v1beta1.ValidatingAdmissionPolicySpec", "variables", MERGE, "name", LMAP,
              ADM "v1beta1.Variable", "name"),
        CONDS_SSA(ADM "v1beta1.ValidatingAdmissionPolicyStatus", META "Condition"),
        SET(API "apiserverinternal.v1alpha1.ServerStorageVersion", "decodableVersions", 0, LSET),
        SET(API "apiserverinternal.v1alpha1.ServerStorageVersion", "servedVersions", 0, LSET),
        CONDS_SSA(API "apiserverinternal.v1alpha1.StorageVersionStatus",
                  API "apiserverinternal.v1alpha1.StorageVersionCondition"),
        KEYED(API "apiserverinternal.v1alpha1.StorageVersionStatus", "storageVersions", 0, NULL,
              LMAP, API "apiserverinternal.v1alpha1.ServerStorageVersion", "apiServerID"),
        CONDS_SMP(API "apps.v1.DaemonSetStatus", API "apps.v1.DaemonSetCondition"),
        {API "apps.v1.DeploymentSpec",
         "strategy",
         CAIRN_MERGE_OBJECT,
         RETAIN,
         NULL,
         NONE,
         {NULL},
         API "apps.v1.DeploymentStrategy"},
        CONDS_SMP(API "apps.v1.DeploymentStatus", API "apps.v1.DeploymentCondition"),
        CONDS_SMP(API "apps.v1.ReplicaSetStatus", API "apps.v1.ReplicaSetCondition"),
        CONDS_SMP(API "apps.v1.StatefulSetStatus", API "apps.v1.StatefulSetCondition"),
        CONDS(API "autoscaling.v2.HorizontalPodAutoscalerStatus",
              API "autoscaling.v2.HorizontalPodAutoscalerCondition"),
        KEYED(API "batch.v1.JobStatus", "conditions", MERGE, "type", CAIRN_LIST_ATOMIC,
              API "batch.v1.JobCondition"),
        SET(API "batch.v1.PodFailurePolicyOnExitCodesRequirement", "values", 0, LSET),
        SET(API "batch.v1.UncountedTerminatedPods", "failed", 0, LSET),
        SET(API "batch.v1.UncountedTerminatedPods", "succeeded", 0, LSET),
        CONDS_SSA(API "certificates.v1.CertificateSigningRequestStatus",
                  API "certificates.v1.CertificateSigningRequestCondition"),
        CONDS_SMP(API "core.v1.ComponentStatus", API "core.v1.ComponentCondition"),
        KEYED(API "core.v1.Container", "env", MERGE, "name", NONE, API "core.v1.EnvVar"),
        KEYED(API "core.v1.Container", "ports", MERGE, "containerPort", LMAP,
              API "core.v1.ContainerPort", "containerPort", "protocol"),
        KEYED(API "core.v1.Container", "volumeDevices", MERGE, "devicePath", NONE,
              API "core.v1.VolumeDevice"),
        KEYED(API "core.v1.Container", "volumeMounts", MERGE, "mountPath", NONE,
              API "core.v1.VolumeMount"),
        KEYED(API "core.v1.EphemeralContainer", "env", MERGE, "name", NONE, API "core.v1.EnvVar"),
        KEYED(API "core.v1.EphemeralContainer", "ports", MERGE, "containerPort", LMAP,
              API "core.v1.ContainerPort", "containerPort", "protocol"),
        KEYED(API "core.v1.EphemeralContainer", "volumeDevices", MERGE, "devicePath", NONE,
              API "core.v1.VolumeDevice"),
        KEYED(API "core.v1.EphemeralContainer", "volumeMounts", MERGE, "mountPath", NONE,
              API "core.v1.VolumeMount"),
        CONDS_SMP(API "core.v1.NamespaceStatus", API "core.v1.NamespaceCondition"),
        SET(API "core.v1.NodeSpec", "podCIDRs", MERGE, NONE),
        KEYED(API "core.v1.NodeStatus", "addresses", MERGE, "type", NONE,
              API "core.v1.NodeAddress"),
        CONDS_SMP(API "core.v1.NodeStatus", API "core.v1.NodeCondition"),
        CONDS_SMP(API "core.v1.PersistentVolumeClaimStatus",
                  API "core.v1.PersistentVolumeClaimCondition"),
        KEYED(API "core.v1.PodSpec", "containers", MERGE, "name", NONE, API "core.v1.Container"),
        KEYED(API "core.v1.PodSpec", "ephemeralContainers", MERGE, "name", NONE,
              API "core.v1.EphemeralContainer"),
        KEYED(API "core.v1.PodSpec", "hostAliases", MERGE, "ip", NONE, API "core.v1.HostAlias"),
        KEYED(API "core.v1.PodSpec", "imagePullSecrets", MERGE, "name", NONE,
              API "core.v1.LocalObjectReference"),
        KEYED(API "core.v1.PodSpec", "initContainers", MERGE, "name", NONE,
              API "core.v1.Container"),
        KEYED(API "core.v1.PodSpec", "resourceClaims", MERGE | RETAIN, "name", LMAP,
              API "core.v1.PodResourceClaim", "name"),
        KEYED(API "core.v1.PodSpec", "schedulingGates", MERGE, "name", LMAP,
              API "core.v1.PodSchedulingGate", "name"),
        KEYED(API "core.v1.PodSpec", "topologySpreadConstraints", MERGE, "topologyKey", LMAP,
              API "core.v1.TopologySpreadConstraint", "topologyKey", "whenUnsatisfiable"),
        KEYED(API "core.v1.PodSpec", "volumes", MERGE | RETAIN, "name", NONE, API "core.v1.Volume"),
        CONDS_SMP(API "core.v1.PodStatus", API "core.v1.PodCondition"),
        KEYED(API "core.v1.PodStatus", "hostIPs", MERGE, "ip", CAIRN_LIST_ATOMIC,
              API "core.v1.HostIP"),
        KEYED(API "core.v1.PodStatus", "podIPs", MERGE, "ip", NONE, API "core.v1.PodIP"),
        KEYED(API "core.v1.PodStatus", "resourceClaimStatuses", MERGE | RETAIN, "name", LMAP,
              API "core.v1.PodResourceClaimStatus", "name"),
        CONDS_SMP(API "core.v1.ReplicationControllerStatus",
                  API "core.v1.ReplicationControllerCondition"),
        KEYED(API "core.v1.ResourceRequirements", "claims", 0, NULL, LMAP,
              API "core.v1.ResourceClaim", "name"),
        KEYED(API "core.v1.ServiceAccount", "secrets", MERGE, "name", NONE,
              API "core.v1.ObjectReference"),
        KEYED(API "core.v1.ServiceSpec", "ports", MERGE, "port", LMAP, API "core.v1.ServicePort",
              "port", "protocol"),
        CONDS(API "core.v1.ServiceStatus", META "Condition"),
        SET(API "discovery.v1.Endpoint", "addresses", 0, LSET),
        CONDS_SSA(FC "v1beta2.FlowSchemaStatus", FC "v1beta2.FlowSchemaCondition"),
        SET(FC "v1beta2.NonResourcePolicyRule", "nonResourceURLs", 0, LSET),
        SET(FC "v1beta2.NonResourcePolicyRule", "verbs", 0, LSET),
        CONDS_SSA(FC "v1beta2.PriorityLevelConfigurationStatus",
                  FC "v1beta2.PriorityLevelConfigurationCondition"),
        SET(FC "v1beta2.ResourcePolicyRule", "apiGroups", 0, LSET),
        SET(FC "v1beta2.ResourcePolicyRule", "namespaces", 0, LSET),
        SET(FC "v1beta2.ResourcePolicyRule", "resources", 0, LSET),
        SET(FC "v1beta2.ResourcePolicyRule", "verbs", 0, LSET),
        CONDS(FC "v1beta3.FlowSchemaStatus", FC "v1beta3.FlowSchemaCondition"),
        SET(FC "v1beta3.NonResourcePolicyRule", "nonResourceURLs", 0, LSET),
        SET(FC "v1beta3.NonResourcePolicyRule", "verbs", 0, LSET),
        CONDS(FC "v1beta3.PriorityLevelConfigurationStatus",
              FC "v1beta3.PriorityLevelConfigurationCondition"),
        SET(FC "v1beta3.ResourcePolicyRule", "apiGroups", 0, LSET),
        SET(FC "v1beta3.ResourcePolicyRule", "namespaces", 0, LSET),
        SET(FC "v1beta3.ResourcePolicyRule", "resources", 0, LSET),
        SET(FC "v1beta3.ResourcePolicyRule", "verbs", 0, LSET),
        {API "policy.v1.PodDisruptionBudgetSpec",
         "selector",
         CAIRN_MERGE_REPLACE,
         CAIRN_PATCH_REPLACE,
         NULL,
         NONE,
         {NULL},
         META "LabelSelector"},
        CONDS(API "policy.v1.PodDisruptionBudgetStatus", META "Condition"),
        SET(RES "PodSchedulingContextSpec", "potentialNodes", 0, LSET),
        KEYED(RES "PodSchedulingContextStatus", "resourceClaims", 0, NULL, LMAP,
              RES "ResourceClaimSchedulingStatus", "name"),
        SET(RES "ResourceClaimSchedulingStatus", "unsuitableNodes", 0, LSET),
        KEYED(RES "ResourceClaimStatus", "reservedFor", 0, NULL, LMAP,
              RES "ResourceClaimConsumerReference", "uid"),
        SET(API "storage.v1.CSIDriverSpec", "volumeLifecycleModes", 0, LSET),
        KEYED(API "storage.v1.CSINodeSpec", "drivers", MERGE, "name", NONE,
              API "storage.v1.CSINodeDriver"),
        KEYED(API "storage.v1.CSIStorageCapacityList", "items", 0, NULL, LMAP,
              API "storage.v1.CSIStorageCapacity", "name"),
        CONDS_SSA(CRD "CustomResourceDefinitionStatus", CRD "CustomResourceDefinitionCondition"),
        KEYED(CRD "JSONSchemaProps", "x-kubernetes-validations", MERGE, "rule", LMAP,
              CRD "ValidationRule", "rule"),
        SET(META "ObjectMeta", "finalizers", MERGE, NONE),
        KEYED(META "ObjectMeta", "ownerReferences", MERGE, "uid", NONE, META "OwnerReference"),
        CONDS(AGG "APIServiceStatus", AGG "APIServiceCondition"),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const cairn_merge_key *cairn_k8s_merge_keys(size_t *count)
{
	*count = COUNT(merge_keys);
	return merge_keys;
}

struct type_field {
	const char *type;
	const char *field;
};

static int cmp_merge_key(const void *key, const void *elem)
{
	const struct type_field *k = key;
	const cairn_merge_key *e = elem;
	int c = strcmp(k->type, e->type);

	return c ? c : strcmp(k->field, e->field);
}

const cairn_merge_key *cairn_k8s_merge_key_find(const char *type, const char *field)
{
	struct type_field k = {type, field};

	if (type == NULL || field == NULL)
		return NULL;
	return bsearch(&k, merge_keys, COUNT(merge_keys), sizeof(merge_keys[0]), cmp_merge_key);
}

/* ---- kinds ---------------------------------------------------------------- */

/* group, version, kind, and the definition: prefix + version + "." + kind. */
#define KIND(g, v, prefix, k)                                                                      \
	{                                                                                          \
		g, v, k, prefix v "." k                                                            \
	}
#define CORE(k) KIND("", "v1", API "core.", k)
#define APPS(k) KIND("apps", "v1", API "apps.", k)

static const cairn_k8s_kind kinds[] = {
        CORE("Binding"),
        CORE("ComponentStatus"),
        CORE("ConfigMap"),
        CORE("Endpoints"),
        CORE("Event"),
        CORE("LimitRange"),
        CORE("Namespace"),
        CORE("Node"),
        CORE("PersistentVolume"),
        CORE("PersistentVolumeClaim"),
        CORE("Pod"),
        CORE("PodTemplate"),
        CORE("ReplicationController"),
        CORE("ResourceQuota"),
        CORE("Secret"),
        CORE("Service"),
        CORE("ServiceAccount"),
        KIND("admissionregistration.k8s.io", "v1", ADM, "MutatingWebhookConfiguration"),
        KIND("admissionregistration.k8s.io", "v1", ADM, "ValidatingWebhookConfiguration"),
        KIND("admissionregistration.k8s.io", "v1alpha1", ADM, "ValidatingAdmissionPolicy"),
        KIND("admissionregistration.k8s.io", "v1alpha1", ADM, "ValidatingAdmissionPolicyBinding"),
        KIND("admissionregistration.k8s.io", "v1beta1", ADM, "ValidatingAdmissionPolicy"),
        KIND("admissionregistration.k8s.io", "v1beta1", ADM, "ValidatingAdmissionPolicyBinding"),
        {"apiextensions.k8s.io", "v1", "CustomResourceDefinition", CRD "CustomResourceDefinition"},
        {"apiregistration.k8s.io", "v1", "APIService", AGG "APIService"},
        APPS("ControllerRevision"),
        APPS("DaemonSet"),
        APPS("Deployment"),
        APPS("ReplicaSet"),
        APPS("StatefulSet"),
        KIND("authentication.k8s.io", "v1", API "authentication.", "SelfSubjectReview"),
        KIND("authentication.k8s.io", "v1", API "authentication.", "TokenRequest"),
        KIND("authentication.k8s.io", "v1", API "authentication.", "TokenReview"),
        KIND("authentication.k8s.io", "v1alpha1", API "authentication.", "SelfSubjectReview"),
        KIND("authentication.k8s.io", "v1beta1", API "authentication.", "SelfSubjectReview"),
        KIND("authorization.k8s.io", "v1", API "authorization.", "LocalSubjectAccessReview"),
        KIND("authorization.k8s.io", "v1", API "authorization.", "SelfSubjectAccessReview"),
        KIND("authorization.k8s.io", "v1", API "authorization.", "SelfSubjectRulesReview"),
        KIND("authorization.k8s.io", "v1", API "authorization.", "SubjectAccessReview"),
        KIND("autoscaling", "v1", API "autoscaling.", "HorizontalPodAutoscaler"),
        KIND("autoscaling", "v1", API "autoscaling.", "Scale"),
        KIND("autoscaling", "v2", API "autoscaling.", "HorizontalPodAutoscaler"),
        KIND("batch", "v1", API "batch.", "CronJob"),
        KIND("batch", "v1", API "batch.", "Job"),
        KIND("certificates.k8s.io", "v1", API "certificates.", "CertificateSigningRequest"),
        KIND("certificates.k8s.io", "v1alpha1", API "certificates.", "ClusterTrustBundle"),
        KIND("coordination.k8s.io", "v1", API "coordination.", "Lease"),
        KIND("discovery.k8s.io", "v1", API "discovery.", "EndpointSlice"),
        KIND("events.k8s.io", "v1", API "events.", "Event"),
        KIND("flowcontrol.apiserver.k8s.io", "v1beta2", FC, "FlowSchema"),
        KIND("flowcontrol.apiserver.k8s.io", "v1beta2", FC, "PriorityLevelConfiguration"),
        KIND("flowcontrol.apiserver.k8s.io", "v1beta3", FC, "FlowSchema"),
        KIND("flowcontrol.apiserver.k8s.io", "v1beta3", FC, "PriorityLevelConfiguration"),
        KIND("internal.apiserver.k8s.io", "v1alpha1", API "apiserverinternal.", "StorageVersion"),
        KIND("networking.k8s.io", "v1", API "networking.", "Ingress"),
        KIND("networking.k8s.io", "v1", API "networking.", "IngressClass"),
        KIND("networking.k8s.io", "v1", API "networking.", "NetworkPolicy"),
        KIND("networking.k8s.io", "v1alpha1", API "networking.", "ClusterCIDR"),
        KIND("networking.k8s.io", "v1alpha1", API "networking.", "IPAddress"),
        KIND("node.k8s.io", "v1", API "node.", "RuntimeClass"),
        KIND("policy", "v1", API "policy.", "Eviction"),
        KIND("policy", "v1", API "policy.", "PodDisruptionBudget"),
        KIND("rbac.authorization.k8s.io", "v1", API "rbac.", "ClusterRole"),
        KIND("rbac.authorization.k8s.io", "v1", API "rbac.", "ClusterRoleBinding"),
        KIND("rbac.authorization.k8s.io", "v1", API "rbac.", "Role"),
        KIND("rbac.authorization.k8s.io", "v1", API "rbac.", "RoleBinding"),
        KIND("resource.k8s.io", "v1alpha2", API "resource.", "PodSchedulingContext"),
        KIND("resource.k8s.io", "v1alpha2", API "resource.", "ResourceClaim"),
        KIND("resource.k8s.io", "v1alpha2", API "resource.", "ResourceClaimTemplate"),
        KIND("resource.k8s.io", "v1alpha2", API "resource.", "ResourceClass"),
        KIND("scheduling.k8s.io", "v1", API "scheduling.", "PriorityClass"),
        KIND("storage.k8s.io", "v1", API "storage.", "CSIDriver"),
        KIND("storage.k8s.io", "v1", API "storage.", "CSINode"),
        KIND("storage.k8s.io", "v1", API "storage.", "CSIStorageCapacity"),
        KIND("storage.k8s.io", "v1", API "storage.", "StorageClass"),
        KIND("storage.k8s.io", "v1", API "storage.", "VolumeAttachment"),
};

const cairn_k8s_kind *cairn_k8s_kinds(size_t *count)
{
	*count = COUNT(kinds);
	return kinds;
}

const char *cairn_k8s_kind_type(const char *api_version, const char *kind)
{
	const char *slash;
	size_t glen;

	if (api_version == NULL || kind == NULL)
		return NULL;
	slash = strchr(api_version, '/');
	glen = slash ? (size_t)(slash - api_version) : 0;
	for (size_t i = 0; i < COUNT(kinds); i++) {
		const cairn_k8s_kind *k = &kinds[i];
		if (strcmp(k->kind, kind) != 0 || strlen(k->group) != glen ||
		    strncmp(k->group, api_version, glen) != 0)
			continue;
		if (strcmp(k->version, slash ? slash + 1 : api_version) == 0)
			return k->definition;
	}
	return NULL;
}

/* ---- the walk map ------------------------------------------------------------
 * The object-valued fields (objects, or lists of objects) on the way from a
 * kind to the rows above, for the workload kinds and the kinds whose status
 * carries keyed conditions. "metadata" of every kind is ObjectMeta and is
 * answered without a row; list fields that have a row above are answered
 * from their item_type. */

#define F(t, f, ft)                                                                                \
	{                                                                                          \
		t, f, ft                                                                           \
	}
#define C API "core.v1."
#define A API "apps.v1."
#define B API "batch.v1."

static const cairn_k8s_field fields[] = {
        F(A "DaemonSet", "spec", A "DaemonSetSpec"),
        F(A "DaemonSet", "status", A "DaemonSetStatus"),
        F(A "DaemonSetSpec", "template", C "PodTemplateSpec"),
        F(A "Deployment", "spec", A "DeploymentSpec"),
        F(A "Deployment", "status", A "DeploymentStatus"),
        F(A "DeploymentSpec", "template", C "PodTemplateSpec"),
        F(A "ReplicaSet", "spec", A "ReplicaSetSpec"),
        F(A "ReplicaSet", "status", A "ReplicaSetStatus"),
        F(A "ReplicaSetSpec", "template", C "PodTemplateSpec"),
        F(A "StatefulSet", "spec", A "StatefulSetSpec"),
        F(A "StatefulSet", "status", A "StatefulSetStatus"),
        F(A "StatefulSetSpec", "template", C "PodTemplateSpec"),
        F(A "StatefulSetSpec", "volumeClaimTemplates", C "PersistentVolumeClaim"),
        F(API "autoscaling.v2.HorizontalPodAutoscaler", "status",
          API "autoscaling.v2.HorizontalPodAutoscalerStatus"),
        F(B "CronJob", "spec", B "CronJobSpec"),
        F(B "CronJobSpec", "jobTemplate", B "JobTemplateSpec"),
        F(B "Job", "spec", B "JobSpec"),
        F(B "Job", "status", B "JobStatus"),
        F(B "JobSpec", "podFailurePolicy", B "PodFailurePolicy"),
        F(B "JobSpec", "template", C "PodTemplateSpec"),
        F(B "JobStatus", "uncountedTerminatedPods", B "UncountedTerminatedPods"),
        F(B "JobTemplateSpec", "spec", B "JobSpec"),
        F(B "PodFailurePolicy", "rules", B "PodFailurePolicyRule"),
        F(B "PodFailurePolicyRule", "onExitCodes", B "PodFailurePolicyOnExitCodesRequirement"),
        F(C "Container", "resources", C "ResourceRequirements"),
        F(C "EphemeralContainer", "resources", C "ResourceRequirements"),
        F(C "EphemeralVolumeSource", "volumeClaimTemplate", C "PersistentVolumeClaimTemplate"),
        F(C "Namespace", "status", C "NamespaceStatus"),
        F(C "Node", "spec", C "NodeSpec"),
        F(C "Node", "status", C "NodeStatus"),
        F(C "PersistentVolumeClaim", "spec", C "PersistentVolumeClaimSpec"),
        F(C "PersistentVolumeClaim", "status", C "PersistentVolumeClaimStatus"),
        F(C "PersistentVolumeClaimSpec", "resources", C "ResourceRequirements"),
        F(C "PersistentVolumeClaimTemplate", "spec", C "PersistentVolumeClaimSpec"),
        F(C "Pod", "spec", C "PodSpec"),
        F(C "Pod", "status", C "PodStatus"),
        F(C "PodTemplate", "template", C "PodTemplateSpec"),
        F(C "PodTemplateSpec", "spec", C "PodSpec"),
        F(C "ReplicationController", "spec", C "ReplicationControllerSpec"),
        F(C "ReplicationController", "status", C "ReplicationControllerStatus"),
        F(C "ReplicationControllerSpec", "template", C "PodTemplateSpec"),
        F(C "Service", "spec", C "ServiceSpec"),
        F(C "Service", "status", C "ServiceStatus"),
        F(C "Volume", "ephemeral", C "EphemeralVolumeSource"),
        F(API "policy.v1.PodDisruptionBudget", "spec", API "policy.v1.PodDisruptionBudgetSpec"),
        F(API "policy.v1.PodDisruptionBudget", "status", API "policy.v1.PodDisruptionBudgetStatus"),
        F(API "storage.v1.CSIDriver", "spec", API "storage.v1.CSIDriverSpec"),
        F(API "node.v1.RuntimeClass", "scheduling", API "node.v1.Scheduling"),
        F(API "storage.v1.CSINode", "spec", API "storage.v1.CSINodeSpec"),
};

const cairn_k8s_field *cairn_k8s_fields(size_t *count)
{
	*count = COUNT(fields);
	return fields;
}

static int is_kind_definition(const char *type)
{
	for (size_t i = 0; i < COUNT(kinds); i++)
		if (strcmp(kinds[i].definition, type) == 0)
			return 1;
	return 0;
}

const char *cairn_k8s_field_type(const char *type, const char *field)
{
	const cairn_merge_key *row;

	if (type == NULL || field == NULL)
		return NULL;
	for (size_t i = 0; i < COUNT(fields); i++)
		if (strcmp(fields[i].type, type) == 0 && strcmp(fields[i].field, field) == 0)
			return fields[i].field_type;
	row = cairn_k8s_merge_key_find(type, field);
	if (row && row->item_type)
		return row->item_type;
	if (strcmp(field, "metadata") == 0 && is_kind_definition(type))
		return META "ObjectMeta";
	return NULL;
}

/* ---- atomic maps ------------------------------------------------------------
 * Objects that server-side apply treats as one value. A field is one when it
 * says x-kubernetes-map-type "atomic" itself (maps of strings), or when the
 * definition it refers to says so (LabelSelector, object references) and
 * the field does not override it with "granular". Sorted by type, then
 * field: lookups bisect. */

#define LS META "LabelSelector"

static const cairn_k8s_field atomic_maps[] = {
        F(A "DaemonSetSpec", "selector", LS),
        F(A "DeploymentSpec", "selector", LS),
        F(A "ReplicaSetSpec", "selector", LS),
        F(A "StatefulSetSpec", "selector", LS),
        F(B "JobSpec", "selector", LS),
        F(C "Binding", "target", C "ObjectReference"),
        F(C "Event", "involvedObject", C "ObjectReference"),
        F(C "Event", "related", C "ObjectReference"),
        F(C "PersistentVolumeClaimSpec", "dataSource", C "TypedLocalObjectReference"),
        F(C "PersistentVolumeClaimSpec", "selector", LS),
        F(C "PodSpec", "nodeSelector", NULL),
        F(C "ReplicationControllerSpec", "selector", NULL),
        F(C "ServiceSpec", "selector", NULL),
        F(API "events.v1.Event", "regarding", C "ObjectReference"),
        F(API "events.v1.Event", "related", C "ObjectReference"),
        F(API "node.v1.Scheduling", "nodeSelector", NULL),
        F(API "policy.v1.PodDisruptionBudgetSpec", "selector", LS),
        F(API "rbac.v1.ClusterRoleBinding", "roleRef", API "rbac.v1.RoleRef"),
        F(API "rbac.v1.RoleBinding", "roleRef", API "rbac.v1.RoleRef"),
        F(RES "ResourceClass", "suitableNodes", C "NodeSelector"),
        F(API "storage.v1.CSIStorageCapacity", "nodeTopology", LS),
};

const cairn_k8s_field *cairn_k8s_atomic_maps(size_t *count)
{
	*count = COUNT(atomic_maps);
	return atomic_maps;
}

static int cmp_atomic(const void *key, const void *elem)
{
	const struct type_field *k = key;
	const cairn_k8s_field *e = elem;
	int c = strcmp(k->type, e->type);

	return c ? c : strcmp(k->field, e->field);
}

int cairn_k8s_map_is_atomic(const char *type, const char *field)
{
	struct type_field k = {type, field};

	if (type == NULL || field == NULL)
		return 0;
	return bsearch(&k, atomic_maps, COUNT(atomic_maps), sizeof(atomic_maps[0]), cmp_atomic) !=
	       NULL;
}

/* The definitions that are atomic themselves, sorted (strcmp order). */
static const char *const atomic_types[] = {
        ADM "v1alpha1.MatchResources",
        ADM "v1alpha1.NamedRuleWithOperations",
        ADM "v1alpha1.ParamKind",
        ADM "v1alpha1.ParamRef",
        ADM "v1beta1.MatchResources",
        ADM "v1beta1.NamedRuleWithOperations",
        ADM "v1beta1.ParamKind",
        ADM "v1beta1.ParamRef",
        ADM "v1beta1.Variable",
        API "autoscaling.v1.CrossVersionObjectReference",
        C "ConfigMapKeySelector",
        C "EndpointAddress",
        C "EndpointPort",
        C "LocalObjectReference",
        C "NodeSelector",
        C "NodeSelectorTerm",
        C "ObjectFieldSelector",
        C "ObjectReference",
        C "ResourceFieldSelector",
        C "ScopeSelector",
        C "SecretKeySelector",
        C "SecretReference",
        C "TopologySelectorTerm",
        C "TypedLocalObjectReference",
        API "discovery.v1.EndpointPort",
        API "rbac.v1.RoleRef",
        API "rbac.v1.Subject",
        META "LabelSelector",
        META "OwnerReference",
};

const char *const *cairn_k8s_atomic_types(size_t *count)
{
	*count = COUNT(atomic_types);
	return atomic_types;
}

static int cmp_type(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

int cairn_k8s_type_is_atomic(const char *type)
{
	if (type == NULL)
		return 0;
	return bsearch(type, atomic_types, COUNT(atomic_types), sizeof(atomic_types[0]),
	               cmp_type) != NULL;
}
