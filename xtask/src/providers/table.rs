//! What each provider's file must give the site, written down apart from the files themselves and
//! each row with where the provider (or its controller) documents it. The `providers` step holds
//! every render of a provider's file, alone and under each scenario file, to its row.

/// One provider: its values file, and what the render must show on that provider.
pub struct Provider {
    /// `values/<file>.yaml`.
    pub file: &'static str,
    /// `spec.ingressClassName` of the Ingress; None: the field is absent (GKE reads an annotation).
    pub ingress_class: Option<&'static str>,
    /// Every annotation of the Ingress, with its value (cert-manager's issuer among them).
    pub ingress_annotations: &'static [(&'static str, &'static str)],
    /// Every annotation of nginx's Service.
    pub service_annotations: &'static [(&'static str, &'static str)],
    /// nginx's `set_real_ip_from` ranges: the provider's load balancers or controller pods.
    pub trusted_proxies: &'static [&'static str],
    /// Who may reach nginx besides the chart's test pods, as NetworkPolicy peers (YAML); `[]`:
    /// anyone, where the controller cannot be named.
    pub ingress_from: &'static str,
    /// The StorageClass of claims that name none (global.storageClass).
    pub storage_class: &'static str,
    /// The StorageClass of the shared volumes when a scenario asks for ReadWriteMany; empty: the
    /// provider has none to name (a single-node cluster), so the claims fall back to `storage_class`.
    pub read_write_many_class: &'static str,
    /// Where the provider documents the settings above.
    pub sources: &'static [&'static str],
}

const NGINX_TIMEOUTS: [(&str, &str); 3] = [
    ("nginx.ingress.kubernetes.io/proxy-body-size", "0"),
    ("nginx.ingress.kubernetes.io/proxy-read-timeout", "600"),
    ("nginx.ingress.kubernetes.io/proxy-send-timeout", "600"),
];

const INGRESS_NGINX_PODS: &str = "
- namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}
  podSelector: {matchLabels: {app.kubernetes.io/name: ingress-nginx}}";

/// kind and minikube: ingress-nginx in its own namespace, the default pod range, the `standard`
/// class and no ReadWriteMany.
const fn on_a_laptop(file: &'static str, sources: &'static [&'static str]) -> Provider {
    Provider {
        file,
        ingress_class: Some("nginx"),
        ingress_annotations: &NGINX_TIMEOUTS,
        service_annotations: &[],
        trusted_proxies: &["10.244.0.0/16"],
        ingress_from: INGRESS_NGINX_PODS,
        storage_class: "standard",
        read_write_many_class: "",
        sources,
    }
}

pub const PROVIDERS: &[Provider] = &[
    Provider {
        file: "aks",
        ingress_class: Some("webapprouting.kubernetes.azure.com"),
        ingress_annotations: &[
            NGINX_TIMEOUTS[0],
            NGINX_TIMEOUTS[1],
            NGINX_TIMEOUTS[2],
            ("cert-manager.io/cluster-issuer", "letsencrypt"),
        ],
        service_annotations: &[],
        trusted_proxies: &["10.244.0.0/16"],
        ingress_from: "
- namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: app-routing-system}}",
        storage_class: "managed-csi",
        read_write_many_class: "azurefile-csi",
        sources: &[
            "https://learn.microsoft.com/azure/aks/app-routing (class, app-routing-system namespace)",
            "https://learn.microsoft.com/azure/aks/azure-cni-overlay (default --pod-cidr 10.244.0.0/16)",
            "https://learn.microsoft.com/azure/aks/concepts-storage#storage-classes (managed-csi, azurefile-csi)",
            "https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/",
        ],
    },
    Provider {
        file: "eks",
        ingress_class: Some("alb"),
        ingress_annotations: &[
            ("alb.ingress.kubernetes.io/scheme", "internet-facing"),
            ("alb.ingress.kubernetes.io/target-type", "ip"),
            (
                "alb.ingress.kubernetes.io/listen-ports",
                r#"[{"HTTP": 80}, {"HTTPS": 443}]"#,
            ),
            ("alb.ingress.kubernetes.io/ssl-redirect", "443"),
            (
                "alb.ingress.kubernetes.io/load-balancer-attributes",
                "idle_timeout.timeout_seconds=600",
            ),
            ("alb.ingress.kubernetes.io/healthcheck-path", "/-/healthz"),
        ],
        service_annotations: &[],
        trusted_proxies: &["192.168.0.0/16"],
        // The ALB is no pod, and the VPC's range holds every node and pod (values/eks.yaml).
        ingress_from: "[]",
        storage_class: "gp3",
        read_write_many_class: "efs-sc",
        sources: &[
            "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/",
            "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/cert_discovery/",
            "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/x-forwarded-headers.html",
            "https://eksctl.io/usage/vpc-configuration/ (default VPC CIDR 192.168.0.0/16)",
            "https://docs.aws.amazon.com/eks/latest/userguide/efs-csi.html (the efs-sc class)",
        ],
    },
    Provider {
        file: "gke",
        ingress_class: None,
        ingress_annotations: &[
            ("kubernetes.io/ingress.class", "gce"),
            ("kubernetes.io/ingress.global-static-ip-name", "geonode-ip"),
            ("acme.cert-manager.io/http01-edit-in-place", "true"),
            ("cert-manager.io/cluster-issuer", "letsencrypt"),
        ],
        service_annotations: &[
            ("cloud.google.com/neg", r#"{"ingress": true}"#),
            ("cloud.google.com/backend-config", r#"{"default": "geonode"}"#),
        ],
        trusted_proxies: &["35.191.0.0/16", "130.211.0.0/22"],
        ingress_from: "
- ipBlock: {cidr: 35.191.0.0/16}
- ipBlock: {cidr: 130.211.0.0/22}",
        storage_class: "standard-rwo",
        read_write_many_class: "standard-rwx",
        sources: &[
            "https://cloud.google.com/kubernetes-engine/docs/concepts/ingress (kubernetes.io/ingress.class: gce)",
            "https://github.com/kubernetes/ingress-gce/issues/1891 (spec.ingressClassName ignored)",
            "https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration (BackendConfig timeoutSec)",
            "https://cloud.google.com/kubernetes-engine/docs/how-to/container-native-load-balancing (NEG)",
            "https://cloud.google.com/load-balancing/docs/https#firewall-rules (35.191.0.0/16, 130.211.0.0/22)",
            "https://cert-manager.io/docs/usage/ingress/#supported-annotations (http01-edit-in-place)",
            "https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/filestore-csi-driver",
        ],
    },
    Provider {
        file: "iks",
        ingress_class: Some("public-iks-k8s-nginx"),
        ingress_annotations: &NGINX_TIMEOUTS,
        service_annotations: &[],
        trusted_proxies: &["172.17.0.0/18"],
        // The ALBs' labels are named after the cluster (values/iks.yaml).
        ingress_from: "[]",
        storage_class: "ibmc-vpc-block-10iops-tier",
        read_write_many_class: "ibmc-vpc-file-dp2",
        sources: &[
            "https://cloud.ibm.com/docs/containers?topic=containers-ingress-types (public-iks-k8s-nginx)",
            "https://cloud.ibm.com/docs/containers?topic=containers-vpc-subnets (pod subnet 172.17.0.0/18)",
            "https://cloud.ibm.com/docs/containers?topic=containers-vpc-block",
            "https://cloud.ibm.com/docs/containers?topic=containers-storage-file-vpc-sc-ref",
        ],
    },
    on_a_laptop(
        "kind",
        &[
            "https://kind.sigs.k8s.io/docs/user/ingress/",
            "https://kind.sigs.k8s.io/docs/user/configuration/#pod-subnet (10.244.0.0/16)",
            "https://kubernetes.github.io/ingress-nginx/deploy/ (namespace and labels)",
        ],
    ),
    on_a_laptop(
        "minikube",
        &[
            "https://kubernetes.io/docs/tasks/access-application-cluster/ingress-minikube/",
            "https://minikube.sigs.k8s.io/docs/handbook/persistent_volumes/ (standard)",
        ],
    ),
    Provider {
        file: "openshift",
        ingress_class: Some("openshift-default"),
        ingress_annotations: &[
            ("route.openshift.io/termination", "edge"),
            ("haproxy.router.openshift.io/timeout", "600s"),
        ],
        service_annotations: &[],
        trusted_proxies: &["10.128.0.0/14"],
        ingress_from: "
- namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: openshift-ingress}}
  podSelector:
    matchLabels: {ingresscontroller.operator.openshift.io/deployment-ingresscontroller: default}",
        storage_class: "",
        read_write_many_class: "",
        sources: &[
            "https://docs.openshift.com/container-platform/latest/networking/routes/route-configuration.html",
            "https://docs.openshift.com/container-platform/latest/networking/network_policy/multitenant-network-policy.html",
            "https://docs.openshift.com/container-platform/latest/networking/ingress-operator.html (router pods' labels)",
            "https://docs.openshift.com/container-platform/latest/installing/installing_bare_metal/installation-config-parameters-bare-metal.html (clusterNetwork 10.128.0.0/14)",
        ],
    },
];
