{# Incremental models (README, "Incremental runs").

   Each incremental model stores `_last_load_id` on every row it writes: the newest load
   in ingest.load_manifest (one sequence for every raw table) when it was built. On the next run it
   reprocesses
     * every key with a raw row loaded after that, however old its event date: late rows
       and corrections are caught by load, not by event time;
     * every key whose events fall in the last `incremental_lookback_days` days of event
       time it already holds: the recent edge is re-derived on every run;
     * every key whose customer_key changed since it was written (identity merges and
       splits), compared row by row, so a run that failed half-way heals on the next one.
   A full refresh (`c360 run --full-refresh`, c360_full_refresh_job, every as-of run)
   rebuilds the same tables from raw. #}

{# The newest load the loader has recorded (any source, any outcome): written into every
   row an incremental model builds, so a downstream incremental model knows which rows
   were rebuilt after it last ran. #}
{% macro newest_load_id() -%}
    {{ return(adapter.dispatch('newest_load_id')()) }}
{%- endmacro %}

{% macro default__newest_load_id() -%}
    (select max(load_id) from ingest.load_manifest)
{%- endmacro %}

{# Spark has no manifest (it stays in the DuckDB warehouse that ingestion writes): the run
   passes its newest load id. #}
{% macro spark__newest_load_id() -%}
    cast({{ var('newest_load_id', -1) }} as bigint)
{%- endmacro %}

{# Rows loaded (a raw source) or rebuilt (an incremental model) after this model was last
   built. #}
{% macro loaded_since_last_build(column='_load_id') -%}
    {{ column }} > (select coalesce(max(_last_load_id), -1) from {{ this }})
{%- endmacro %}

{# Rows of `relation` whose key has a version loaded since this model was last built:
   every version of such a key, so a corrected or moved event is seen before and after. #}
{% macro key_loaded_since_last_build(relation, key) -%}
    {{ key }} in (
        select loaded.{{ key }} from {{ relation }} as loaded
        where {{ loaded_since_last_build('loaded._load_id') }}
    )
{%- endmacro %}

{# Events on or after the first day of the lookback window, counted back from the latest
   event day this model holds. #}
{% macro within_lookback(event_column, qualifier='') -%}
    cast({% if qualifier %}{{ qualifier }}.{% endif %}{{ event_column }} as date) >= (
        select cast(max(latest.{{ event_column }}) as date) - {{ var('incremental_lookback_days') | int }}
        from {{ this }} as latest
    )
{%- endmacro %}

{# Post-hook of per-customer incremental models: delete the customer keys that no longer
   exist upstream (retired by a merge). delete+insert only replaces keys it writes. #}
{% macro delete_retired_customer_keys(upstream) -%}
    {%- if not is_incremental() %}select 1{% else -%}
    delete from {{ this }}
    where customer_key not in (
        select customer_key from {{ upstream }}
        where customer_key is not null
    )
    {%- endif %}
{%- endmacro %}

{# Incremental on DuckDB (delete+insert); on Spark a table rebuilt every run, since
   dbt-spark's Parquet tables cannot delete (merge needs Delta or Iceberg). #}
{% macro incremental_or_table() -%}
    {{ return('table' if target.type == 'spark' else 'incremental') }}
{%- endmacro %}

{# Post-hook of the incremental identity models: delete the records that no longer exist
   upstream. delete+insert only replaces the records it writes. #}
{% macro delete_records_gone_from(upstream) -%}
    {%- if not is_incremental() %}select 1{% else -%}
    delete from {{ this }}
    where record_key not in (select record_key from {{ upstream }})
    {%- endif %}
{%- endmacro %}


{# Post-hook of customer_identity_map, keyed on (record_source, record_id): delete the
   records that no longer exist upstream. #}
{% macro delete_map_records_gone_from(upstream) -%}
    {%- if not is_incremental() %}select 1{% else -%}
    delete from {{ this }}
    where not exists (
        select 1 from {{ upstream }} as kept
        where kept.record_source = {{ this }}.record_source and kept.record_id = {{ this }}.record_id
    )
    {%- endif %}
{%- endmacro %}


{# Post-hook of models that write a tombstone (`_is_gone`) for a key that vanished: the
   tombstone replaced the old row (delete+insert), and goes itself. #}
{% macro delete_tombstones() -%}
    {%- if not is_incremental() %}select 1{% else -%}
    delete from {{ this }} where _is_gone
    {%- endif %}
{%- endmacro %}

{# Pre-hook of models with several rows per record (int_identity_edges): the rows of every
   record the upstream rebuilt since this model's last build go first, so a record that
   now carries no key keeps none of its old ones (delete+insert only replaces the records
   it writes rows for). #}
{% macro delete_rows_of_records_rebuilt_in(upstream) -%}
    {%- if not is_incremental() %}select 1{% else -%}
    delete from {{ this }}
    where record_key in (
        select record_key from {{ upstream }}
        where {{ loaded_since_last_build('_last_load_id') }}
    )
    {%- endif %}
{%- endmacro %}

{# Whether the optional probabilistic identity layer is on (var probabilistic_matching):
   its links are scored over all records, so the identity models rebuild every record. #}
{% macro probabilistic_matching() -%}
    {{ return(var('probabilistic_matching') in (true, 'true', 'on', 'True', '1', 1)) }}
{%- endmacro %}
