"""aws-like mode: an EKS cluster is CREATING before it is ACTIVE, DELETING before it is gone.

AWS (EKS API reference, Cluster ``status``: CREATING | ACTIVE | DELETING | FAILED
| UPDATING | PENDING; EKS user guide, "Create an Amazon EKS cluster": "Cluster
provisioning takes several minutes"). The boto3 waiters ``cluster_active`` and
``cluster_deleted`` poll DescribeCluster for exactly these. Each step here takes
:func:`labkit.emulator.aws_like.delay` seconds.
"""
from __future__ import annotations

from moto.eks.models import EKSBackend

from labkit.emulator import aws_like
from labkit.emulator.patching import replace


def install() -> None:
    if getattr(EKSBackend.create_cluster, "_labkit_aws_like", False):
        return
    create, delete = EKSBackend.create_cluster, EKSBackend.delete_cluster

    def create_cluster(self, *args, **kwargs):
        cluster = create(self, *args, **kwargs)
        if aws_like.enabled():
            cluster.status = "CREATING"
            aws_like.later(lambda: setattr(cluster, "status", "ACTIVE")
                           if cluster.status == "CREATING" else None)
        return cluster

    def delete_cluster(self, name):
        cluster = delete(self, name)
        if aws_like.enabled():
            cluster.status = "DELETING"
            self.clusters[name] = cluster
            self.cluster_count += 1

            def gone():
                if self.clusters.get(name) is cluster:
                    del self.clusters[name]
                    self.cluster_count -= 1
            aws_like.later(gone)
        return cluster

    create_cluster._labkit_aws_like = True
    replace(EKSBackend, "create_cluster", create_cluster)
    replace(EKSBackend, "delete_cluster", delete_cluster)
