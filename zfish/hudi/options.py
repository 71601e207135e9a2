"""Every ``hoodie.*`` key zfish reads or writes, with its value or default, and ``WriteOptions``.

This is the only module that spells ``hoodie.*`` keys; the rest of the package
imports these constants. Defaults are the ones of Apache Hudi 0.15 (the version
AWS Glue 5.0 ships), so a table written here and a table written by the JVM
datasource with default options look the same on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# --- hoodie.properties (HoodieTableConfig) --------------------------------------------------

TABLE_NAME = "hoodie.table.name"
TABLE_TYPE = "hoodie.table.type"
TABLE_VERSION = "hoodie.table.version"
TIMELINE_LAYOUT_VERSION = "hoodie.timeline.layout.version"
RECORDKEY_FIELDS = "hoodie.table.recordkey.fields"
PRECOMBINE_FIELD = "hoodie.table.precombine.field"
PARTITION_FIELDS = "hoodie.table.partition.fields"
KEYGENERATOR_CLASS = "hoodie.table.keygenerator.class"
HIVE_STYLE_PARTITIONING = "hoodie.datasource.write.hive_style_partitioning"
URL_ENCODE_PARTITIONING = "hoodie.datasource.write.partitionpath.urlencode"
DROP_PARTITION_COLUMNS = "hoodie.datasource.write.drop.partition.columns"
BASE_FILE_FORMAT = "hoodie.table.base.file.format"
POPULATE_META_FIELDS = "hoodie.populate.meta.fields"
TIMELINE_TIMEZONE = "hoodie.table.timeline.timezone"
ARCHIVELOG_FOLDER = "hoodie.archivelog.folder"
PARTITION_METAFILE_USE_BASE_FORMAT = "hoodie.partition.metafile.use.base.format"
DATABASE_NAME = "hoodie.database.name"
CREATE_SCHEMA = "hoodie.table.create.schema"
METADATA_PARTITIONS = "hoodie.table.metadata.partitions"
METADATA_PARTITIONS_INFLIGHT = "hoodie.table.metadata.partitions.inflight"
METADATA_ENABLE = "hoodie.metadata.enable"  # a JVM write config; zfish never enables it
TABLE_CHECKSUM = "hoodie.table.checksum"

# Values zfish writes (and the only ones it accepts when opening a table).
TABLE_VERSION_VALUE = "6"
TIMELINE_LAYOUT_VERSION_VALUE = "1"
TABLE_TYPE_COW = "COPY_ON_WRITE"
TABLE_TYPE_MOR = "MERGE_ON_READ"
BASE_FILE_FORMAT_PARQUET = "PARQUET"
TIMELINE_TIMEZONE_UTC = "UTC"
ARCHIVELOG_FOLDER_VALUE = "archived"
DEFAULT_DATABASE = "default"
AVRO_NAMESPACE_PREFIX = "hoodie"  # Avro record namespace "hoodie.<table>" (not a config key)

SIMPLE_KEYGEN = "org.apache.hudi.keygen.SimpleKeyGenerator"
COMPLEX_KEYGEN = "org.apache.hudi.keygen.ComplexKeyGenerator"
NONPARTITIONED_KEYGEN = "org.apache.hudi.keygen.NonpartitionedKeyGenerator"
SUPPORTED_KEYGENS = (SIMPLE_KEYGEN, COMPLEX_KEYGEN, NONPARTITIONED_KEYGEN)

# --- commit metadata and parquet footers ---------------------------------------------------

# Meta columns, in the order Hudi writes them (HoodieRecord.HOODIE_META_COLUMNS).
COMMIT_TIME_FIELD = "_hoodie_commit_time"
COMMIT_SEQNO_FIELD = "_hoodie_commit_seqno"
RECORD_KEY_FIELD = "_hoodie_record_key"
PARTITION_PATH_FIELD = "_hoodie_partition_path"
FILE_NAME_FIELD = "_hoodie_file_name"
META_COLUMNS = (
    COMMIT_TIME_FIELD,
    COMMIT_SEQNO_FIELD,
    RECORD_KEY_FIELD,
    PARTITION_PATH_FIELD,
    FILE_NAME_FIELD,
)
META_PREFIX = "_hoodie_"

FOOTER_BLOOM_FILTER = "org.apache.hudi.bloomfilter"
FOOTER_BLOOM_FILTER_LEGACY = "com.uber.hoodie.bloomfilter"
FOOTER_BLOOM_TYPE_CODE = "hoodie_bloom_filter_type_code"
FOOTER_MIN_RECORD_KEY = "hoodie_min_record_key"
FOOTER_MAX_RECORD_KEY = "hoodie_max_record_key"
FOOTER_AVRO_SCHEMA = "parquet.avro.schema"
FOOTER_WRITER_MODEL = "writer.model.name"
FOOTER_WRITER_MODEL_AVRO = "avro"

PARTITION_METAFILE = ".hoodie_partition_metadata"
PARTITION_METAFILE_COMMIT_TIME = "commitTime"
PARTITION_METAFILE_DEPTH = "partitionDepth"
HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
NULL_RECORDKEY_PLACEHOLDER = "__null__"
EMPTY_RECORDKEY_PLACEHOLDER = "__empty__"

# --- layout of .hoodie -----------------------------------------------------------------------

METAFOLDER = ".hoodie"
PROPERTIES_FILE = "hoodie.properties"
TEMP_FOLDER = ".temp"
AUX_FOLDER = ".aux"
SCHEMA_FOLDER = ".schema"
METADATA_TABLE_FOLDER = "metadata"
HEARTBEAT_FOLDER = ".heartbeat"  # HoodieTableMetaClient.HEARTBEAT_FOLDER_NAME: one file per instant
LOCK_FILE = "zfish.writer.lock"
# Hadoop's local file system (ChecksumFileSystem) writes ".<name>.crc" next to every file.
HADOOP_CRC_SUFFIX = ".crc"

# Write markers (MarkerType, MarkerUtils): "MARKERS.type" names the type; without it a
# marker folder holds DIRECT markers (one empty file per data file); timeline-server-based
# markers are lines of "MARKERS<n>" files written by the JVM's embedded timeline server.
MARKERS_TYPE_FILE = "MARKERS.type"
MARKERS_FILE_PREFIX = "MARKERS"
MARKER_TYPE_DIRECT = "DIRECT"
MARKER_TYPE_TIMELINE_SERVER_BASED = "TIMELINE_SERVER_BASED"

# extraMetadata key of the .inflight zfish writes, so its own crashed attempts are known as
# its own (not a foreign writer's that may still be running); not a hoodie.* config.
ZFISH_WRITER_KEY = "zfish.writer"
ZFISH_WRITER_VALUE = "zfish.hudi"

# --- write config defaults (HoodieWriteConfig / HoodieCompactionConfig / HoodieStorageConfig) --

PARQUET_MAX_FILE_SIZE = "hoodie.parquet.max.file.size"
PARQUET_MAX_FILE_SIZE_DEFAULT = 120 * 1024 * 1024
PARQUET_SMALL_FILE_LIMIT = "hoodie.parquet.small.file.limit"
PARQUET_SMALL_FILE_LIMIT_DEFAULT = 100 * 1024 * 1024
COPY_ON_WRITE_INSERT_SPLIT_SIZE = "hoodie.copyonwrite.insert.split.size"
COPY_ON_WRITE_INSERT_SPLIT_SIZE_DEFAULT = 500_000
COPY_ON_WRITE_AUTO_SPLIT_INSERTS = "hoodie.copyonwrite.insert.auto.split"
COPY_ON_WRITE_AUTO_SPLIT_INSERTS_DEFAULT = True
COPY_ON_WRITE_RECORD_SIZE_ESTIMATE = "hoodie.copyonwrite.record.size.estimate"
COPY_ON_WRITE_RECORD_SIZE_ESTIMATE_DEFAULT = 1024
RECORD_SIZE_ESTIMATION_THRESHOLD = "hoodie.record.size.estimation.threshold"
RECORD_SIZE_ESTIMATION_THRESHOLD_DEFAULT = 1.0
BLOOM_FILTER_NUM_ENTRIES = "hoodie.index.bloom.num_entries"
BLOOM_FILTER_NUM_ENTRIES_DEFAULT = 60_000
BLOOM_FILTER_FPP = "hoodie.index.bloom.fpp"
BLOOM_FILTER_FPP_DEFAULT = 0.000000001
BLOOM_FILTER_TYPE = "hoodie.bloom.index.filter.type"
BLOOM_FILTER_TYPE_DEFAULT = "DYNAMIC_V0"
BLOOM_FILTER_DYNAMIC_MAX_ENTRIES = "hoodie.bloom.index.filter.dynamic.max.entries"
BLOOM_FILTER_DYNAMIC_MAX_ENTRIES_DEFAULT = 100_000
PARQUET_COMPRESSION_CODEC = "hoodie.parquet.compression.codec"
PARQUET_COMPRESSION_CODEC_DEFAULT = "snappy"
COMBINE_BEFORE_UPSERT = "hoodie.combine.before.upsert"
COMBINE_BEFORE_UPSERT_DEFAULT = True
COMBINE_BEFORE_INSERT = "hoodie.combine.before.insert"
COMBINE_BEFORE_INSERT_DEFAULT = False
PAYLOAD_CLASS = "hoodie.datasource.write.payload.class"
OVERWRITE_WITH_LATEST_PAYLOAD = "org.apache.hudi.common.model.OverwriteWithLatestAvroPayload"
DEFAULT_HOODIE_RECORD_PAYLOAD = "org.apache.hudi.common.model.DefaultHoodieRecordPayload"
CLEAN_AUTO = "hoodie.clean.automatic"
CLEAN_AUTO_DEFAULT = True
CLEANER_POLICY = "hoodie.cleaner.policy"
CLEANER_POLICY_KEEP_LATEST_COMMITS = "KEEP_LATEST_COMMITS"
CLEANER_COMMITS_RETAINED = "hoodie.cleaner.commits.retained"
CLEANER_COMMITS_RETAINED_DEFAULT = 10
CLEANER_INCREMENTAL_MODE = "hoodie.cleaner.incremental.mode"
CLEANER_INCREMENTAL_MODE_DEFAULT = True
FAILED_WRITES_CLEANER_POLICY = "hoodie.cleaner.policy.failed.writes"
FAILED_WRITES_EAGER = "EAGER"  # the default: the next write rolls back every pending commit
FAILED_WRITES_LAZY = "LAZY"  # multi-writer: only instants whose heartbeat expired
CLIENT_HEARTBEAT_INTERVAL_MS = "hoodie.client.heartbeat.interval_in_ms"
CLIENT_HEARTBEAT_INTERVAL_MS_DEFAULT = 60_000
CLIENT_HEARTBEAT_TOLERABLE_MISSES = "hoodie.client.heartbeat.tolerable.misses"
CLIENT_HEARTBEAT_TOLERABLE_MISSES_DEFAULT = 2
FOREIGN_HEARTBEAT_TIMEOUT_SECONDS_DEFAULT = (
    CLIENT_HEARTBEAT_INTERVAL_MS_DEFAULT * CLIENT_HEARTBEAT_TOLERABLE_MISSES_DEFAULT / 1000
)
# No heartbeat (the JVM's default EAGER policy writes none): a JVM write touches a file of
# its instant (requested/inflight, a marker, a data file) at least every few seconds while
# it writes, but its index lookup before the .inflight can be minutes on a big table.
FOREIGN_PENDING_TIMEOUT_SECONDS_DEFAULT = 15 * 60.0

# --- timeline archival (HoodieArchivalConfig) ------------------------------------------------

ARCHIVE_AUTO = "hoodie.archive.automatic"
ARCHIVE_AUTO_DEFAULT = True
KEEP_MIN_COMMITS = "hoodie.keep.min.commits"
KEEP_MIN_COMMITS_DEFAULT = 20
KEEP_MAX_COMMITS = "hoodie.keep.max.commits"
KEEP_MAX_COMMITS_DEFAULT = 30
COMMITS_ARCHIVAL_BATCH = "hoodie.commits.archival.batch"
COMMITS_ARCHIVAL_BATCH_DEFAULT = 10
# zfish implements only the default (stop archiving at the first savepoint).
ARCHIVE_BEYOND_SAVEPOINT = "hoodie.archive.beyond.savepoint"
ARCHIVE_BEYOND_SAVEPOINT_DEFAULT = False


class MergeMode(StrEnum):
    """How an incoming record is merged with the stored one of the same key.

    ``COMMIT_TIME`` is Hudi 0.15's default payload (OverwriteWithLatestAvroPayload):
    the incoming record always wins over storage. ``EVENT_TIME`` is
    DefaultHoodieRecordPayload: the stored record is kept when its precombine
    value is larger. In both modes a batch is first deduplicated by key, the
    largest precombine value winning.
    """

    COMMIT_TIME = "COMMIT_TIME_ORDERING"
    EVENT_TIME = "EVENT_TIME_ORDERING"

    @property
    def payload_class(self) -> str:
        """The Hudi payload class with these semantics."""
        if self is MergeMode.EVENT_TIME:
            return DEFAULT_HOODIE_RECORD_PAYLOAD
        return OVERWRITE_WITH_LATEST_PAYLOAD


class ComplexKeyEncoding(StrEnum):
    """Record keys of a ``ComplexKeyGenerator`` table with a single record key field.

    ``FIELD_PREFIXED`` (``id:1``) is what AWS Glue 5.0 writes (its Hudi 0.15 reverts
    HUDI-7001) and what every Hudi before 0.14.1 wrote; ``VALUE_ONLY`` (``1``) is OSS
    Hudi 0.14.1+/0.15.0 (``ComplexAvroKeyGenerator`` and ``BuiltinKeyGenerator`` use the
    plain value when there is one key field). Several key fields are always prefixed.
    """

    FIELD_PREFIXED = "FIELD_PREFIXED"
    VALUE_ONLY = "VALUE_ONLY"


class BloomFilterType(StrEnum):
    """Type code written to ``hoodie_bloom_filter_type_code`` (Hudi BloomFilterTypeCode)."""

    DYNAMIC_V0 = "DYNAMIC_V0"
    SIMPLE = "SIMPLE"


@dataclass(frozen=True)
class WriteOptions:
    """Tuning of one write; every field mirrors a Hudi write config (see ``hoodie_config``).

    Picklable and immutable: it travels inside ``WriteContext`` to Spark tasks.
    """

    merge_mode: MergeMode = MergeMode.COMMIT_TIME
    combine_before_upsert: bool = COMBINE_BEFORE_UPSERT_DEFAULT
    combine_before_insert: bool = COMBINE_BEFORE_INSERT_DEFAULT
    max_file_size: int = PARQUET_MAX_FILE_SIZE_DEFAULT
    small_file_limit: int = PARQUET_SMALL_FILE_LIMIT_DEFAULT
    insert_split_size: int = COPY_ON_WRITE_INSERT_SPLIT_SIZE_DEFAULT
    auto_split_inserts: bool = COPY_ON_WRITE_AUTO_SPLIT_INSERTS_DEFAULT
    record_size_estimate: int = COPY_ON_WRITE_RECORD_SIZE_ESTIMATE_DEFAULT
    record_size_estimation_threshold: float = RECORD_SIZE_ESTIMATION_THRESHOLD_DEFAULT
    bloom_filter_type: BloomFilterType = BloomFilterType.DYNAMIC_V0
    bloom_num_entries: int = BLOOM_FILTER_NUM_ENTRIES_DEFAULT
    bloom_fpp: float = BLOOM_FILTER_FPP_DEFAULT
    bloom_dynamic_max_entries: int = BLOOM_FILTER_DYNAMIC_MAX_ENTRIES_DEFAULT
    compression: str = PARQUET_COMPRESSION_CODEC_DEFAULT
    auto_clean: bool = CLEAN_AUTO_DEFAULT
    cleaner_commits_retained: int = CLEANER_COMMITS_RETAINED_DEFAULT
    cleaner_incremental: bool = CLEANER_INCREMENTAL_MODE_DEFAULT
    auto_archive: bool = ARCHIVE_AUTO_DEFAULT
    keep_min_commits: int = KEEP_MIN_COMMITS_DEFAULT
    keep_max_commits: int = KEEP_MAX_COMMITS_DEFAULT
    archival_batch_size: int = COMMITS_ARCHIVAL_BATCH_DEFAULT
    # A lock whose owner runs on another host cannot be probed; after this many
    # seconds without a refresh it is considered abandoned.
    lock_expiry_seconds: float = 6 * 3600.0
    # A pending instant zfish did not start (a JVM writer's) is left alone while it may be
    # live: while its heartbeat file is younger than ``foreign_heartbeat_timeout_seconds``
    # (Hudi's default 60 s interval x 2 tolerable misses), or, without a heartbeat, while its
    # newest file (instant files, markers, data files) is younger than
    # ``foreign_pending_timeout_seconds``. Older ones are rolled back.
    foreign_pending_timeout_seconds: float = FOREIGN_PENDING_TIMEOUT_SECONDS_DEFAULT
    foreign_heartbeat_timeout_seconds: float = FOREIGN_HEARTBEAT_TIMEOUT_SECONDS_DEFAULT
    # Only for a new ComplexKeyGenerator table with one key field; an existing table's keys
    # decide for themselves (see keygen).
    complex_key_encoding: ComplexKeyEncoding = ComplexKeyEncoding.FIELD_PREFIXED
    # zfish's own, no Hudi equivalent: an upserted record whose data columns equal
    # the stored ones is left alone (it keeps its commit time), and a file group
    # without a real change is not rewritten. The snapshot's data is the same as
    # with Hudi's rewrite; an incremental query then returns only real changes.
    skip_unchanged: bool = False

    def __post_init__(self) -> None:
        if self.cleaner_commits_retained < 1:
            raise ValueError("cleaner_commits_retained must be at least 1")
        if self.max_file_size <= 0 or self.small_file_limit < 0:
            raise ValueError("max_file_size must be > 0 and small_file_limit >= 0")
        if self.insert_split_size <= 0 or self.record_size_estimate <= 0:
            raise ValueError("insert_split_size and record_size_estimate must be > 0")
        if self.bloom_num_entries <= 0 or not 0.0 < self.bloom_fpp < 1.0:
            raise ValueError("bloom_num_entries must be > 0 and 0 < bloom_fpp < 1")
        if self.foreign_pending_timeout_seconds < 0 or self.foreign_heartbeat_timeout_seconds < 0:
            raise ValueError("foreign_pending/heartbeat timeouts must be >= 0 seconds")
        # HoodieWriteConfig.validate: max must exceed min (the archiver raises min itself
        # when the cleaner retains more commits than min, see archive.instants_to_keep).
        if not 1 <= self.keep_min_commits < self.keep_max_commits:
            raise ValueError(
                f"keep_max_commits ({KEEP_MAX_COMMITS}={self.keep_max_commits}) must be greater "
                f"than keep_min_commits ({KEEP_MIN_COMMITS}={self.keep_min_commits}), and min >= 1"
            )
        if self.archival_batch_size < 1:
            raise ValueError(f"archival_batch_size ({COMMITS_ARCHIVAL_BATCH}) must be at least 1")

    def hoodie_config(self) -> dict[str, str]:
        """These options as the ``hoodie.*`` write configs a JVM writer would take."""
        return {
            PAYLOAD_CLASS: self.merge_mode.payload_class,
            COMBINE_BEFORE_UPSERT: str(self.combine_before_upsert).lower(),
            COMBINE_BEFORE_INSERT: str(self.combine_before_insert).lower(),
            PARQUET_MAX_FILE_SIZE: str(self.max_file_size),
            PARQUET_SMALL_FILE_LIMIT: str(self.small_file_limit),
            COPY_ON_WRITE_INSERT_SPLIT_SIZE: str(self.insert_split_size),
            COPY_ON_WRITE_AUTO_SPLIT_INSERTS: str(self.auto_split_inserts).lower(),
            COPY_ON_WRITE_RECORD_SIZE_ESTIMATE: str(self.record_size_estimate),
            RECORD_SIZE_ESTIMATION_THRESHOLD: str(self.record_size_estimation_threshold),
            BLOOM_FILTER_TYPE: self.bloom_filter_type.value,
            BLOOM_FILTER_NUM_ENTRIES: str(self.bloom_num_entries),
            BLOOM_FILTER_FPP: repr(self.bloom_fpp),
            BLOOM_FILTER_DYNAMIC_MAX_ENTRIES: str(self.bloom_dynamic_max_entries),
            PARQUET_COMPRESSION_CODEC: self.compression,
            CLEAN_AUTO: str(self.auto_clean).lower(),
            CLEANER_POLICY: CLEANER_POLICY_KEEP_LATEST_COMMITS,
            CLEANER_COMMITS_RETAINED: str(self.cleaner_commits_retained),
            CLEANER_INCREMENTAL_MODE: str(self.cleaner_incremental).lower(),
            ARCHIVE_AUTO: str(self.auto_archive).lower(),
            KEEP_MIN_COMMITS: str(self.keep_min_commits),
            KEEP_MAX_COMMITS: str(self.keep_max_commits),
            COMMITS_ARCHIVAL_BATCH: str(self.archival_batch_size),
            ARCHIVE_BEYOND_SAVEPOINT: str(ARCHIVE_BEYOND_SAVEPOINT_DEFAULT).lower(),
        }


# --- Spark datasource options (the JVM writer path, ``zfish etl --writer spark-hudi``) --------

DS_TABLE_NAME = "hoodie.table.name"
DS_TABLE_TYPE = "hoodie.datasource.write.table.type"
DS_OPERATION = "hoodie.datasource.write.operation"
DS_OPERATION_UPSERT = "upsert"
DS_OPERATION_INSERT = "insert"
DS_OPERATION_BULK_INSERT = "bulk_insert"
DS_OPERATION_DELETE = "delete"
DS_OPERATION_INSERT_OVERWRITE = "insert_overwrite"
DS_OPERATION_INSERT_OVERWRITE_TABLE = "insert_overwrite_table"
DS_TABLE_TYPE_COW = "COPY_ON_WRITE"
DS_HIVE_STYLE_PARTITIONING = HIVE_STYLE_PARTITIONING  # the same key as the table config
DS_UPSERT_PARALLELISM = "hoodie.upsert.shuffle.parallelism"
DS_INSERT_PARALLELISM = "hoodie.insert.shuffle.parallelism"
DS_BULK_INSERT_PARALLELISM = "hoodie.bulkinsert.shuffle.parallelism"
DS_DELETE_PARALLELISM = "hoodie.delete.shuffle.parallelism"
WRITE_MARKERS_TYPE = "hoodie.write.markers.type"
EMBEDDED_TIMELINE_SERVER = "hoodie.embed.timeline.server"
# Reads (DataSourceReadOptions): snapshot, time travel, incremental.
DS_QUERY_TYPE = "hoodie.datasource.query.type"
DS_QUERY_TYPE_SNAPSHOT = "snapshot"
DS_QUERY_TYPE_INCREMENTAL = "incremental"
DS_READ_BEGIN_INSTANT = "hoodie.datasource.read.begin.instanttime"
DS_READ_END_INSTANT = "hoodie.datasource.read.end.instanttime"
DS_TIME_TRAVEL_AS_OF = "as.of.instant"
DS_RECORDKEY_FIELD = "hoodie.datasource.write.recordkey.field"
DS_PARTITIONPATH_FIELD = "hoodie.datasource.write.partitionpath.field"
DS_PRECOMBINE_FIELD = "hoodie.datasource.write.precombine.field"
DS_KEYGENERATOR_CLASS = "hoodie.datasource.write.keygenerator.class"
DS_DATABASE_NAME = "hoodie.database.name"
# Options whose key starts with this prefix are copied into the commit's extraMetadata.
DS_COMMIT_METADATA_KEY_PREFIX = "hoodie.datasource.write.commitmeta.key.prefix"
METADATA_ENABLE = "hoodie.metadata.enable"
