// Validates every object in the given Kubernetes YAML files offline against the Kubernetes
// OpenAPI schemas shipped in the kubernetes-models package, then checks the rules this service's
// deployment must keep (replicas, probes, non-root, read-only root, requests, Secret references,
// the NetworkPolicy, the shared rate limit, the migration Job's own Secret).
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const failures = [];
const objects = [];

for (const file of process.argv.slice(2)) {
  for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (document.errors.length > 0) {
      failures.push(`${file}: ${document.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const object = document.toJS();
    if (object === null) continue;
    objects.push({ file, object });
    const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : [null, object.apiVersion];
    const modulePath = ["kubernetes-models", group, version, object.kind].filter(Boolean).join("/");
    try {
      const model = (await import(modulePath))[object.kind];
      new model(object).validate();
    } catch (error) {
      failures.push(`${file}: ${object.kind}/${object.metadata?.name}: ${error.message}`);
    }
  }
}

const deployment = objects.find(({ object }) => object.kind === "Deployment")?.object;
const rule = (ok, message) => { if (!ok) failures.push(`policy: ${message}`); };
rule(deployment, "a Deployment is present");
if (deployment) {
  const pod = deployment.spec.template.spec;
  rule(deployment.spec.replicas >= 2, "the Deployment runs at least 2 replicas");
  rule(pod.securityContext?.runAsNonRoot === true, "the pod runs as non-root");
  for (const container of pod.containers) {
    rule(container.securityContext?.readOnlyRootFilesystem === true, `${container.name}: read-only root filesystem`);
    rule(container.resources?.requests?.cpu && container.resources?.requests?.memory, `${container.name}: cpu and memory requests`);
    const operations = container.ports?.find((port) => port.name === "operations");
    rule(operations?.containerPort === 8082, `${container.name}: the operations port 8082 is named "operations"`);
    rule(container.readinessProbe?.httpGet?.port === "operations" && container.readinessProbe.httpGet.path === "/healthz/ready",
      `${container.name}: readiness probe on /healthz/ready of the operations port`);
    rule(container.livenessProbe?.httpGet?.port === "operations" && container.livenessProbe.httpGet.path === "/healthz/live",
      `${container.name}: liveness probe on /healthz/live of the operations port`);
    rule(deployment.spec.template.metadata.annotations?.["prometheus.io/port"] === "8082", "metrics are scraped on the operations port");
    for (const variable of container.env ?? []) {
      if (/PASSWORD|CONNECTION_STRING/.test(variable.name)) {
        rule(variable.valueFrom?.secretKeyRef, `${container.name}: ${variable.name} comes from a Secret`);
      }
    }
  }
}
// The service's pods are reached only as the NetworkPolicy says: the public ports from namespaces
// (the ingress controller's, gRPC callers'), the operations port from a namespace (Prometheus) and
// from the nodes (the kubelet), each rule naming its ports and its peers.
const policy = objects.map(({ object }) => object).find((object) => object.kind === "NetworkPolicy"
  && Object.entries(object.spec.podSelector?.matchLabels ?? {}).every(([key, value]) => deployment?.spec.template.metadata.labels?.[key] === value)
  && (object.spec.policyTypes ?? []).includes("Ingress"));
rule(policy, "a NetworkPolicy selects the Deployment's pods and restricts their ingress");
if (policy && deployment) {
  const named = Object.fromEntries(deployment.spec.template.spec.containers.flatMap((c) => c.ports ?? []).map((p) => [p.name, p.containerPort]));
  const publicPorts = [8080, 8081];
  const narrowNamespace = (peer) => peer.namespaceSelector && !peer.ipBlock
    && (Object.keys(peer.namespaceSelector.matchLabels ?? {}).length > 0 || (peer.namespaceSelector.matchExpressions ?? []).length > 0);
  const nodes = (peer) => peer.ipBlock && !peer.namespaceSelector && !peer.podSelector && !/\/0$/.test(peer.ipBlock.cidr);
  const rules = (policy.spec.ingress ?? []).map((r) => ({ from: r.from ?? [], ports: (r.ports ?? []).map((p) => named[p.port] ?? p.port), ranges: (r.ports ?? []).some((p) => p.endPort) }));
  for (const [i, r] of rules.entries()) {
    rule(r.ports.length > 0 && !r.ranges, `NetworkPolicy ingress rule ${i + 1} names its ports, without ranges (a rule without ports opens every port)`);
    rule(r.from.length > 0, `NetworkPolicy ingress rule ${i + 1} names its peers (a rule without from lets anyone in)`);
    rule(r.ports.every((port) => [...publicPorts, 8082].includes(port)), `NetworkPolicy ingress rule ${i + 1} opens only 8080, 8081 or 8082 (found ${r.ports.join(", ")})`);
    if (r.ports.some((port) => publicPorts.includes(port))) {
      rule(!r.ports.includes(8082), `NetworkPolicy ingress rule ${i + 1}: the operations port 8082 shares no rule with the public ports`);
      rule(r.from.every(narrowNamespace), `NetworkPolicy ingress rule ${i + 1}: the public ports only from namespaces chosen by label (the ingress controller's)`);
    }
    if (r.ports.includes(8082)) {
      rule(r.from.every((peer) => narrowNamespace(peer) || nodes(peer)), `NetworkPolicy ingress rule ${i + 1}: the operations port only from a namespace chosen by label (monitoring) or the nodes' addresses`);
    }
  }
  for (const port of publicPorts) {
    rule(rules.some((r) => r.ports.includes(port)), `the NetworkPolicy opens ${port} to the ingress controller's namespace`);
  }
  rule(rules.some((r) => r.ports.includes(8082) && r.from.some(narrowNamespace)), "the NetworkPolicy opens 8082 to the monitoring namespace");
  rule(rules.some((r) => r.ports.includes(8082) && r.from.some(nodes)), "the NetworkPolicy opens 8082 to the nodes (the kubelet's probes)");
}

// The replicas share one rate limit, in Redis (RateLimiting:Redis), given from a Secret.
if (deployment) {
  for (const container of deployment.spec.template.spec.containers) {
    const redis = (container.env ?? []).find((variable) => variable.name === "RateLimiting__Redis");
    rule(redis?.valueFrom?.secretKeyRef, `${container.name}: the shared rate limit's RateLimiting__Redis is set, from a Secret`);
  }
}

// One version for the migration and the service: both run the image tagged NEPTUN_CHAT_VERSION,
// and the Job's name carries it, so that each version's migration is a Job of its own.
const version = process.env.NEPTUN_CHAT_VERSION;
const job = objects.find(({ object }) => object.kind === "Job")?.object;
rule(job, "a migration Job is present");
if (deployment && job && version) {
  const images = [...deployment.spec.template.spec.containers, ...job.spec.template.spec.containers].map((c) => c.image);
  rule(images.every((image) => image.endsWith(`:${version}`)), `the Deployment and the Job run the image tagged \${NEPTUN_CHAT_VERSION} (found ${images.join(", ")})`);
  rule(new Set(images.map((image) => image.slice(0, image.lastIndexOf(":")))).size === 1, "the Deployment and the Job run the same image");
  rule(job.metadata.name.endsWith(`-${version}`), "the Job's name ends with -${NEPTUN_CHAT_VERSION}");
}
// The migration runs as the migrating role, from a Secret that is not the service's, and is given
// no session password (it reads no session): not by name, nor by importing a whole Secret.
if (job) {
  const secretOf = (pod) => pod.containers.flatMap((c) => c.env ?? []).find((v) => v.name === "DATABASE_CONNECTION_STRING")?.valueFrom?.secretKeyRef?.name;
  for (const container of job.spec.template.spec.containers) {
    rule(!(container.env ?? []).some((variable) => variable.name === "NUXT_SESSION_PASSWORD"), `${container.name}: the migration Job is given no NUXT_SESSION_PASSWORD`);
    rule(!container.envFrom, `${container.name}: the migration Job imports no whole Secret or ConfigMap (envFrom)`);
  }
  if (deployment) {
    rule(secretOf(job.spec.template.spec) && secretOf(job.spec.template.spec) !== secretOf(deployment.spec.template.spec),
      "the Job's DATABASE_CONNECTION_STRING (the migrating role) comes from another Secret than the Deployment's (the service role)");
  }
}
const kinds = new Set(objects.map(({ object }) => object.kind));
for (const kind of ["Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"]) {
  rule(kinds.has(kind), `a ${kind} is present`);
}
const services = objects.filter(({ object }) => object.kind === "Service").map(({ object }) => object);
const service = services.find((s) => s.spec.clusterIP !== "None");
rule(service && [8080, 8081].every((port) => service.spec.ports.some((p) => p.port === port)), "the Service exposes 8080 and 8081");
const headless = services.find((s) => s.spec.clusterIP === "None");
rule(headless && headless.spec.ports.some((p) => p.port === 8081), "a headless Service exposes gRPC (8081) for round_robin clients");
rule(services.every((s) => s.spec.ports.every((p) => p.port !== 8082 && p.targetPort !== "operations")), "no Service exposes the operations port");

if (failures.length > 0) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log(`kubernetes manifests: ${objects.length} objects valid`);
