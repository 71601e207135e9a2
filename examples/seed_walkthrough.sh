#!/usr/bin/env bash
# The seed's AWS walkthrough (seed 003), command for command, against `zfish serve`.
#
# Usage: examples/seed_walkthrough.sh <local_data_dir>
# Needs: AWS_ENDPOINT_URL (and the keys and region) exported as `zfish serve` prints them,
# the aws CLI and jq on PATH, and a fresh lake behind the endpoint.
# `make walkthrough` starts a server over a fresh lake and runs this.
set -euo pipefail

DATA_DIR="$1"
HERE="$(cd "$(dirname "$0")" && pwd)"
BUCKET=my-data-bucket
PREFIX=use-cases/fish-demo

step() { echo; echo "== $*"; }

wait_crawler() {
  local state status
  while true; do
    state=$(aws glue get-crawler --name "$1" --query Crawler.State --output text)
    [[ "$state" == "READY" ]] && break
    sleep 1
  done
  status=$(aws glue get-crawler --name "$1" --query Crawler.LastCrawl.Status --output text)
  echo "crawler $1: $status"
  [[ "$status" == "SUCCEEDED" ]]
}

athena() {  # athena SQL -> prints the number of data rows, leaves the result in $RESULT
  local id state
  id=$(aws athena start-query-execution --query-string "$1" --work-group primary \
        --query-execution-context Database=zebra_fish_demo --query QueryExecutionId --output text)
  while true; do
    state=$(aws athena get-query-execution --query-execution-id "$id" --query QueryExecution.Status.State --output text)
    [[ "$state" == "QUEUED" || "$state" == "RUNNING" ]] || break
    sleep 0.5
  done
  if [[ "$state" != "SUCCEEDED" ]]; then
    aws athena get-query-execution --query-execution-id "$id" --query QueryExecution.Status.StateChangeReason --output text >&2
    return 1
  fi
  RESULT=$(aws athena get-query-results --query-execution-id "$id" --output json)
}

rows() { echo "$RESULT" | jq '.ResultSet.Rows | length - 1'; }
count() { echo "$RESULT" | jq -r '.ResultSet.Rows[1].Data[0].VarCharValue'; }

run_job() {  # run_job END_DATE
  local run state
  run=$(aws glue start-job-run --job-name joined_fish_data --arguments "{\"--END_DATE\": \"$1\"}" --query JobRunId --output text)
  while true; do
    state=$(aws glue get-job-run --job-name joined_fish_data --run-id "$run" --query JobRun.JobRunState --output text)
    [[ "$state" == "STARTING" || "$state" == "RUNNING" ]] || break
    sleep 2
  done
  echo "job run $run: $state"
  if [[ "$state" != "SUCCEEDED" ]]; then
    aws glue get-job-run --job-name joined_fish_data --run-id "$run" --query JobRun.ErrorMessage --output text >&2
    return 1
  fi
}

step "1. the Glue database"
aws glue create-database --database-input '{"Name": "zebra_fish_demo"}'
aws s3 mb "s3://$BUCKET"

step "2. the data up to 2025-05-10 (the seed's upload script)"
bash "$HERE/upload_to_s3.sh" "$DATA_DIR" "$BUCKET" "$PREFIX" 2025-05-10 | tail -1

step "3. two crawlers, observations/ and outcomes/"
for table in observations outcomes; do
  aws glue create-crawler --name "${table}-crawler" --role AWSGlueServiceRole-zebra-fish \
    --database-name zebra_fish_demo \
    --targets "{\"S3Targets\": [{\"Path\": \"s3://$BUCKET/$PREFIX/$table/\"}]}"
  aws glue start-crawler --name "${table}-crawler"
done
wait_crawler observations-crawler
wait_crawler outcomes-crawler

step "4. Athena: the first observations"
athena 'SELECT * FROM "zebra_fish_demo"."observations" limit 10;'
echo "observations limit 10: $(rows) rows"
athena 'SELECT count(*) FROM "zebra_fish_demo"."observations";'
echo "observations: $(count)"
athena 'SELECT count(*) FROM "zebra_fish_demo"."outcomes";'
echo "outcomes: $(count)"

step "5. the Glue ETL job"
aws s3 cp "$HERE/../etl/joined_fish_data.py" "s3://$BUCKET/scripts/joined_fish_data.py"
aws glue create-job --name joined_fish_data --role AWSGlueServiceRole-zebra-fish --glue-version 5.0 \
  --command "Name=glueetl,ScriptLocation=s3://$BUCKET/scripts/joined_fish_data.py,PythonVersion=3" \
  --default-arguments '{"--datalake-formats": "hudi"}' > /dev/null
run_job 2025-05-10T18:00:00

step "6. Athena: the joined table"
athena 'SELECT * FROM "zebra_fish_demo"."joined_fish_data";'
echo "joined_fish_data: $(rows) rows"

step "7. the next day: upload, crawl, job"
delivery=$(mktemp -d)
for kind in observations images outcomes; do
  mkdir -p "$delivery/$kind"
  cp -r "$DATA_DIR/$kind/day=2025-05-10" "$delivery/$kind/"
done
bash "$HERE/upload_to_s3.sh" "$delivery" "$BUCKET" "$PREFIX" 2025-05-11 | tail -1
rm -rf "$delivery"
athena 'SELECT count(*) FROM "zebra_fish_demo"."outcomes";'
echo "outcomes before the crawl: $(count)"
aws glue start-crawler --name observations-crawler
aws glue start-crawler --name outcomes-crawler
wait_crawler observations-crawler
wait_crawler outcomes-crawler
athena 'SELECT count(*) FROM "zebra_fish_demo"."outcomes";'
echo "outcomes after the crawl: $(count)"
run_job 2025-05-11T18:00:00
athena 'SELECT * FROM "zebra_fish_demo"."joined_fish_data";'
echo "joined_fish_data: $(rows) rows"
echo
echo "walkthrough complete"
