"""The S3 action names a bucket policy may use (Service Authorization Reference).

S3 refuses a bucket policy naming an action it does not know ("Policy has
invalid action"), so the emulator needs the list. Names compare without
regard to case, as IAM does.
"""
from __future__ import annotations

S3_ACTIONS = frozenset(
    """
    AbortMultipartUpload AssociateAccessGrantsIdentityCenter BypassGovernanceRetention
    CreateAccessGrant CreateAccessGrantsInstance CreateAccessGrantsLocation CreateAccessPoint
    CreateAccessPointForObjectLambda CreateBucket CreateBucketMetadataTableConfiguration
    CreateJob CreateMultiRegionAccessPoint CreateStorageLensGroup DeleteAccessGrant
    DeleteAccessGrantsInstance DeleteAccessGrantsInstanceResourcePolicy DeleteAccessGrantsLocation
    DeleteAccessPoint DeleteAccessPointForObjectLambda DeleteAccessPointPolicy
    DeleteAccessPointPolicyForObjectLambda DeleteBucket DeleteBucketMetadataTableConfiguration
    DeleteBucketOwnershipControls DeleteBucketPolicy DeleteBucketWebsite DeleteJobTagging
    DeleteMultiRegionAccessPoint DeleteObject DeleteObjectTagging DeleteObjectVersion
    DeleteObjectVersionTagging DeleteStorageLensConfiguration DeleteStorageLensConfigurationTagging
    DeleteStorageLensGroup DescribeJob DescribeMultiRegionAccessPointOperation
    DissociateAccessGrantsIdentityCenter GetAccelerateConfiguration GetAccessGrant
    GetAccessGrantsInstance GetAccessGrantsInstanceForPrefix GetAccessGrantsInstanceResourcePolicy
    GetAccessGrantsLocation GetAccessPoint GetAccessPointConfigurationForObjectLambda
    GetAccessPointForObjectLambda GetAccessPointPolicy GetAccessPointPolicyForObjectLambda
    GetAccessPointPolicyStatus GetAccessPointPolicyStatusForObjectLambda GetAccountPublicAccessBlock
    GetAnalyticsConfiguration GetBucketAcl GetBucketCORS GetBucketLocation GetBucketLogging
    GetBucketMetadataTableConfiguration GetBucketNotification GetBucketObjectLockConfiguration
    GetBucketOwnershipControls GetBucketPolicy GetBucketPolicyStatus GetBucketPublicAccessBlock
    GetBucketRequestPayment GetBucketTagging GetBucketVersioning GetBucketWebsite
    GetDataAccess GetEncryptionConfiguration GetIntelligentTieringConfiguration
    GetInventoryConfiguration GetJobTagging GetLifecycleConfiguration GetMetricsConfiguration
    GetMultiRegionAccessPoint GetMultiRegionAccessPointPolicy GetMultiRegionAccessPointPolicyStatus
    GetMultiRegionAccessPointRoutes GetObject GetObjectAcl GetObjectAttributes GetObjectLegalHold
    GetObjectRetention GetObjectTagging GetObjectTorrent GetObjectVersion GetObjectVersionAcl
    GetObjectVersionAttributes GetObjectVersionForReplication GetObjectVersionTagging
    GetObjectVersionTorrent GetReplicationConfiguration GetStorageLensConfiguration
    GetStorageLensConfigurationTagging GetStorageLensDashboard GetStorageLensGroup
    InitiateReplication ListAccessGrants ListAccessGrantsInstances ListAccessGrantsLocations
    ListAccessPoints ListAccessPointsForObjectLambda ListAllMyBuckets ListBucket
    ListBucketMultipartUploads ListBucketVersions ListCallerAccessGrants ListJobs
    ListMultiRegionAccessPoints ListMultipartUploadParts ListStorageLensConfigurations
    ListStorageLensGroups ListTagsForResource ObjectOwnerOverrideToBucketOwner
    PutAccelerateConfiguration PutAccessGrantsInstanceResourcePolicy
    PutAccessPointConfigurationForObjectLambda PutAccessPointPolicy
    PutAccessPointPolicyForObjectLambda PutAccessPointPublicAccessBlock
    PutAccountPublicAccessBlock PutAnalyticsConfiguration PutBucketAcl PutBucketCORS
    PutBucketLogging PutBucketNotification PutBucketObjectLockConfiguration
    PutBucketOwnershipControls PutBucketPolicy PutBucketPublicAccessBlock PutBucketRequestPayment
    PutBucketTagging PutBucketVersioning PutBucketWebsite PutEncryptionConfiguration
    PutIntelligentTieringConfiguration PutInventoryConfiguration PutJobTagging
    PutLifecycleConfiguration PutMetricsConfiguration PutMultiRegionAccessPointPolicy PutObject
    PutObjectAcl PutObjectLegalHold PutObjectRetention PutObjectTagging PutObjectVersionAcl
    PutObjectVersionTagging PutReplicationConfiguration PutStorageLensConfiguration
    PutStorageLensConfigurationTagging ReplicateDelete ReplicateObject ReplicateTags
    RestoreObject SubmitMultiRegionAccessPointRoutes TagResource UntagResource
    UpdateAccessGrantsLocation UpdateJobPriority UpdateJobStatus UpdateStorageLensGroup
    """.split()
)


def _object_level(action: str) -> bool:
    # Object actions carry "Object" in their name, except bucket-wide settings
    # about objects and the Object Lambda access point actions.
    if action.endswith("ForObjectLambda") or action.startswith(("GetBucket", "PutBucket")):
        return False
    return "Object" in action or action in _OTHER_OBJECT_ACTIONS


_OTHER_OBJECT_ACTIONS = {
    "AbortMultipartUpload", "ListMultipartUploadParts", "BypassGovernanceRetention",
    "ReplicateDelete", "ReplicateTags", "InitiateReplication",
}
_BUCKET_PREFIXES = ("GetBucket", "PutBucket", "DeleteBucket", "ListBucket")
_OTHER_BUCKET_ACTIONS = {
    "CreateBucket", "DeleteBucket", "ListBucket", "GetAccelerateConfiguration", "PutAccelerateConfiguration",
    "GetAnalyticsConfiguration", "PutAnalyticsConfiguration", "GetEncryptionConfiguration",
    "PutEncryptionConfiguration", "GetIntelligentTieringConfiguration", "PutIntelligentTieringConfiguration",
    "GetInventoryConfiguration", "PutInventoryConfiguration", "GetLifecycleConfiguration",
    "PutLifecycleConfiguration", "GetMetricsConfiguration", "PutMetricsConfiguration",
    "GetReplicationConfiguration", "PutReplicationConfiguration", "CreateBucketMetadataTableConfiguration",
}


def resource_kind(action: str) -> str | None:
    """"object" or "bucket" for actions on one of those, None when not classified.

    Unclassified actions (account, job, access point, tagging...) are treated
    by callers as applying to anything, so a gap here never refuses a policy.
    """
    if _object_level(action):
        return "object"
    if action.startswith(_BUCKET_PREFIXES) or action in _OTHER_BUCKET_ACTIONS:
        return "bucket"
    return None
