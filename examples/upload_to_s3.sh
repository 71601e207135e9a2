#!/bin/bash

# Usage: ./upload_to_s3.sh <local_data_dir> <s3_bucket> <bucket_prefix> <end_date>
# Example: ./upload_to_s3.sh synthetic_data my-data-bucket use-cases/fish-demo 2025-05-01

LOCAL_DIR="$1"
S3_BUCKET="$2"
BUCKET_PREFIX="$3"
END_DATE="$4"

echo "Uploading data from $LOCAL_DIR to s3://$S3_BUCKET until $END_DATE"

upload_partitioned_data() {
  local subdir="$1"
  local prefix="$2"

  find "$LOCAL_DIR/$subdir" -mindepth 1 -maxdepth 1 -type d | while read -r folder; do
    folder_name=$(basename "$folder")
    folder_date=${folder_name#day=}
    if [[ "$folder_date" < "$END_DATE" ]]; then
      # Compact JSON files before uploading
      tmp_dir=$(mktemp -d)
      cp -r "$folder/"* "$tmp_dir/"
      find "$tmp_dir" -name '*.json' -exec sh -c 'jq -c . "$0" > "$0.tmp" && mv "$0.tmp" "$0"' {} \;
      aws s3 cp "$tmp_dir" "s3://$S3_BUCKET/$BUCKET_PREFIX/$prefix/$folder_name/" --recursive
      rm -rf "$tmp_dir"
      echo "Uploaded $subdir/$folder_name"
    fi
  done
}

upload_partitioned_data "observations" "observations"
upload_partitioned_data "images" "images"
upload_partitioned_data "outcomes" "outcomes"

echo "‚úÖ Upload complete up to $END_DATE"
