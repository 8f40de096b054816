# The archive as one Athena table. The columns are the Parquet schema of
# internal/archive/row.go, in order (a test compares them); dt and hour are
# the Hive-style partitions of the keys, found by partition projection, so
# no crawler or MSCK REPAIR is needed. JSON columns are strings: query them
# with json_extract_scalar. Timestamps are microseconds, UTC.

resource "aws_glue_catalog_database" "archive" {
  name        = var.glue_db_name
  description = "Souq event archive (Parquet on S3)"
}

resource "aws_glue_catalog_table" "events" {
  name          = "events"
  database_name = aws_glue_catalog_database.archive.name
  table_type    = "EXTERNAL_TABLE"
  description   = "One row per archived event; see docs/archive.md"

  parameters = {
    "EXTERNAL"                    = "TRUE"
    "classification"              = "parquet"
    "parquet.compression"         = "ZSTD"
    "projection.enabled"          = "true"
    "projection.dt.type"          = "date"
    "projection.dt.format"        = "yyyy-MM-dd"
    "projection.dt.range"         = "2024-01-01,NOW"
    "projection.dt.interval"      = "1"
    "projection.dt.interval.unit" = "DAYS"
    "projection.hour.type"        = "integer"
    "projection.hour.range"       = "0,23"
    "projection.hour.digits"      = "2"
    "storage.location.template"   = "s3://${var.bucket_name}/${local.events_prefix}dt=$${dt}/hour=$${hour}/"
  }

  partition_keys {
    name = "dt"
    type = "string"
  }

  partition_keys {
    name = "hour"
    type = "string"
  }

  storage_descriptor {
    location      = "s3://${var.bucket_name}/${local.events_prefix}"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      name                  = "parquet"
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }

    columns {
      name = "stream_seq"
      type = "bigint"
    }
    columns {
      name = "message_id"
      type = "string"
    }
    columns {
      name = "type"
      type = "string"
    }
    columns {
      name = "event"
      type = "string"
    }
    columns {
      name = "name"
      type = "string"
    }
    columns {
      name = "timestamp"
      type = "timestamp"
    }
    columns {
      name = "received_at"
      type = "timestamp"
    }
    columns {
      name = "user_id"
      type = "string"
    }
    columns {
      name = "anonymous_id"
      type = "string"
    }
    columns {
      name = "properties"
      type = "string"
    }
    columns {
      name = "traits"
      type = "string"
    }
    columns {
      name = "context"
      type = "string"
    }
    columns {
      name = "market"
      type = "string"
    }
    columns {
      name = "product_id"
      type = "string"
    }
    columns {
      name = "order_id"
      type = "string"
    }
  }
}
