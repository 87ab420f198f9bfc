#!/usr/bin/env bash
# The baseline of scripts/bench-failover: runbooks/region-failover.toml done the way a person
# scripts it today with the AWS CLI, one command after another, polling with `sleep`.
#
# It does the same operations as drctl's runbook, in the runbook's order, against the same
# endpoint, and ends in the same state (restored EFS with two mount targets, images checked by
# digest, secrets promoted, services scaled and steady, the PRIMARY record answering with the
# SECONDARY's address, the app healthy three times in a row, two SNS messages). It is written
# as a careful operator would write it, not as a straw man:
#   * every wait is a `describe` loop with a fixed `sleep $POLL_SECONDS` (default 10 s; typical
#     hand-written scripts use 5-15 s; the CLI's own waiters use 15 s for ECS services-stable and
#     30 s for Route 53 resource-record-sets-changed, which would be slower still);
#   * JMESPath `--query` picks fields in the same call, so no call is made only to parse;
#   * what is already done is not redone (images present by digest are not copied, a secret
#     already replicated is not replicated again).
# What it leaves out that drctl does: the journal, idempotency tokens, resume, tagging,
# RPO evidence (version and digest comparison beyond "is it there"), the failback memo record
# and the secondary health-check wait. Each of those would add calls to this script.
#
# Environment (all set by scripts/bench-failover; defaults match the seed stack):
#   ENDPOINT        the sandbox, e.g. http://127.0.0.1:4566 (required)
#   AWS             the aws executable (default: aws on PATH)
#   POLL_SECONDS    sleep between polls (default 10)
#   ACCOUNT         account id (default: asked once with sts get-caller-identity)
# Progress goes to stderr as "bench-step <name> <start|end> <unix time>" lines.
set -euo pipefail

: "${ENDPOINT:?set ENDPOINT to the sandbox endpoint}"
AWS_BIN=${AWS:-aws}
POLL_SECONDS=${POLL_SECONDS:-10}
MAX_POLLS=${MAX_POLLS:-360}

PRIMARY=us-east-1
RECOVERY=us-west-2
VAULT=prod-infra-dr
QDRANT_FS=fs-0123456789abcdef0
SUBNETS=(subnet-0f2a0000000000001 subnet-0f2b0000000000002)
EFS_SG=sg-0f2e0000000000ef5
REPOS=(prod-infra/frontend prod-infra/backend prod-infra/ai-service)
SECRETS=(prod-infra/backend prod-infra/ai-service)
CLUSTER=prod-infra-production-cluster
SERVICES=(frontend=2 backend=2 ai-service=1 redis=1 qdrant=1)
ZONE=prod-infra.example.com.
RECORD=app.prod-infra.example.com.
TOPIC=prod-infra-dr-alerts
HEALTH_URL=${HEALTH_URL:-$ENDPOINT/_sandbox/app/$RECOVERY/health}

aws() { "$AWS_BIN" --endpoint-url "$ENDPOINT" --output text "$@"; }
mark() { printf 'bench-step %s %s %s\n' "$1" "$2" "$(date +%s.%N)" >&2; }
die() { echo "failover-awscli: $*" >&2; exit 1; }

# until CMD... prints WANT, sleeping POLL_SECONDS between tries
poll() {
    local what=$1 want=$2; shift 2
    local got i
    for ((i = 0; i < MAX_POLLS; i++)); do
        got=$("$@")
        [[ $got == "$want" ]] && return 0
        case $got in FAILED | ABORTED) die "$what: $got" ;; esac
        sleep "$POLL_SECONDS"
    done
    die "$what: still $got after $MAX_POLLS polls"
}

ACCOUNT=${ACCOUNT:-$(aws sts get-caller-identity --query Account)}
TOPIC_ARN=arn:aws:sns:$RECOVERY:$ACCOUNT:$TOPIC

mark announce start
aws sns publish --region "$RECOVERY" --topic-arn "$TOPIC_ARN" \
    --subject "region failover started" \
    --message "Failover of production from $PRIMARY to $RECOVERY has started." >/dev/null
mark announce end

mark restore-qdrant start
source_arn=arn:aws:elasticfilesystem:$PRIMARY:$ACCOUNT:file-system/$QDRANT_FS
rp=$(aws backup list-recovery-points-by-backup-vault --region "$RECOVERY" \
    --backup-vault-name "$VAULT" --by-resource-arn "$source_arn" \
    --query 'sort_by(RecoveryPoints[?Status==`COMPLETED`], &CreationDate)[-1].RecoveryPointArn')
[[ $rp == arn:* ]] || die "no completed recovery point of $QDRANT_FS in $VAULT"
job=$(aws backup start-restore-job --region "$RECOVERY" --recovery-point-arn "$rp" \
    --iam-role-arn "arn:aws:iam::$ACCOUNT:role/service-role/AWSBackupDefaultServiceRole" \
    --resource-type EFS \
    --metadata "file-system-id=$QDRANT_FS,newFileSystem=true,CreationToken=qdrant-restore-$(date +%s),Encrypted=true,PerformanceMode=generalPurpose" \
    --query RestoreJobId)
poll "restore job $job" COMPLETED \
    aws backup describe-restore-job --region "$RECOVERY" --restore-job-id "$job" --query Status
fs_arn=$(aws backup describe-restore-job --region "$RECOVERY" --restore-job-id "$job" --query CreatedResourceArn)
fs=${fs_arn##*/}
for subnet in "${SUBNETS[@]}"; do
    aws efs create-mount-target --region "$RECOVERY" --file-system-id "$fs" \
        --subnet-id "$subnet" --security-groups "$EFS_SG" >/dev/null
done
poll "mount targets of $fs" 0 \
    aws efs describe-mount-targets --region "$RECOVERY" --file-system-id "$fs" \
    --query 'length(MountTargets[?LifeCycleState!=`available`])'
mark restore-qdrant end

mark replicate-images start
for repo in "${REPOS[@]}"; do
    have=" $(aws ecr describe-images --region "$RECOVERY" --repository-name "$repo" \
        --query 'imageDetails[].imageDigest' | tr '\t' ' ') "
    # digest<TAB>first tag, one image per line
    while IFS=$'\t' read -r digest tag; do
        [[ $have == *" $digest "* ]] && continue
        manifest=$(aws ecr batch-get-image --region "$PRIMARY" --repository-name "$repo" \
            --image-ids "imageDigest=$digest" --query 'images[0].imageManifest')
        aws ecr put-image --region "$RECOVERY" --repository-name "$repo" \
            --image-manifest "$manifest" ${tag:+--image-tag "$tag"} >/dev/null
    done < <(aws ecr describe-images --region "$PRIMARY" --repository-name "$repo" \
        --query 'imageDetails[].[imageDigest, imageTags[0]]' | sed 's/\tNone$/\t/')
done
mark replicate-images end

mark replicate-secrets start
for secret in "${SECRETS[@]}"; do
    status=$(aws secretsmanager describe-secret --region "$PRIMARY" --secret-id "$secret" \
        --query "ReplicationStatus[?Region=='$RECOVERY'].Status | [0]")
    if [[ $status == None ]]; then
        aws secretsmanager replicate-secret-to-regions --region "$PRIMARY" --secret-id "$secret" \
            --add-replica-regions "Region=$RECOVERY" >/dev/null
        status=InProgress
    fi
    [[ $status == InSync ]] || poll "replica of $secret" InSync \
        aws secretsmanager describe-secret --region "$PRIMARY" --secret-id "$secret" \
        --query "ReplicationStatus[?Region=='$RECOVERY'].Status | [0]"
done
mark replicate-secrets end

mark promote-secrets start
for secret in "${SECRETS[@]}"; do
    aws secretsmanager stop-replication-to-replica --region "$RECOVERY" --secret-id "$secret" >/dev/null
done
mark promote-secrets end

mark scale-services start
names=()
for pair in "${SERVICES[@]}"; do
    names+=("${pair%%=*}")
    aws ecs update-service --region "$RECOVERY" --cluster "$CLUSTER" \
        --service "${pair%%=*}" --desired-count "${pair#*=}" >/dev/null
done
poll "services ${names[*]}" "${#names[@]}" \
    aws ecs describe-services --region "$RECOVERY" --cluster "$CLUSTER" --services "${names[@]}" \
    --query 'length(services[?runningCount==desiredCount && deployments[0].rolloutState==`COMPLETED`])'
mark scale-services end

# approve-cutover: the operator running this script has approved by running it.

mark shift-traffic start
zone_id=$(aws route53 list-hosted-zones-by-name --dns-name "$ZONE" --max-items 1 \
    --query 'HostedZones[0].Id')
zone_id=${zone_id##*/}
primary_set='' primary_ttl='' primary_check='' secondary_value=''
while IFS=$'\t' read -r failover set_id ttl check value; do
    case $failover in
        PRIMARY) primary_set=$set_id primary_ttl=$ttl primary_check=$check ;;
        SECONDARY) secondary_value=$value ;;
    esac
done < <(aws route53 list-resource-record-sets --hosted-zone-id "$zone_id" \
    --start-record-name "$RECORD" --start-record-type A --max-items 2 \
    --query "ResourceRecordSets[?Name=='$RECORD' && Type=='A'].[Failover, SetIdentifier, TTL, HealthCheckId, ResourceRecords[0].Value]")
[[ -n $primary_set && -n $secondary_value ]] || die "no PRIMARY/SECONDARY pair for $RECORD"
change_id=$(aws route53 change-resource-record-sets --hosted-zone-id "$zone_id" --query ChangeInfo.Id \
    --change-batch "{\"Comment\": \"failover to $RECOVERY\", \"Changes\": [{\"Action\": \"UPSERT\",
      \"ResourceRecordSet\": {\"Name\": \"$RECORD\", \"Type\": \"A\", \"SetIdentifier\": \"$primary_set\",
      \"Failover\": \"PRIMARY\", \"TTL\": $primary_ttl, \"HealthCheckId\": \"$primary_check\",
      \"ResourceRecords\": [{\"Value\": \"$secondary_value\"}]}}]}")
poll "change $change_id" INSYNC aws route53 get-change --id "$change_id" --query ChangeInfo.Status
mark shift-traffic end

mark probe-app start
healthy=0
for ((i = 0; healthy < 3; i++)); do
    ((i < 60)) || die "$HEALTH_URL not healthy 3 times in a row after 60 tries"
    if curl -fsS -o /dev/null --max-time 10 "$HEALTH_URL"; then
        healthy=$((healthy + 1))
    else
        healthy=0
    fi
    if ((healthy < 3)); then sleep 5; fi
done
mark probe-app end

mark report-done start
aws sns publish --region "$RECOVERY" --topic-arn "$TOPIC_ARN" \
    --subject "region failover complete" \
    --message "Production now serves from $RECOVERY. Qdrant runs on $fs, restored from $rp." >/dev/null
mark report-done end
