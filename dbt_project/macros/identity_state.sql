{# Identity state that outlives a run: the last key assignment and the log of key
   changes. Created on run start (declared as the `identity_state` source) so models and
   unit tests can read them on the very first run. #}
{% macro create_identity_state() %}
    {{ return(adapter.dispatch('create_identity_state')()) }}
{% endmacro %}

{% macro default__create_identity_state() %}
    create schema if not exists identity_state;
    -- no primary key: int_customer_keys_by_record's tests guarantee one row per record, and
    -- an index makes DuckDB's delete-and-reinsert of the same keys 20x slower
    create table if not exists identity_state.customer_keys (
        record_key varchar,
        customer_key varchar,
        key_origin_record varchar,
        saved_at timestamp
    );
    create table if not exists identity_state.key_changes (
        change_type varchar not null,
        from_customer_key varchar not null,
        to_customer_key varchar not null,
        records_moved bigint not null,
        as_of_date date,
        invocation_id varchar,
        logged_at timestamp
    );
{% endmacro %}

{# Spark runs one statement per call, and has no varchar without a length. #}
{% macro spark__create_identity_state() %}
    {% if execute %}
        {% do run_query('create database if not exists identity_state') %}
        {% do run_query('create table if not exists identity_state.customer_keys (record_key string, customer_key string, key_origin_record string, saved_at timestamp) using parquet') %}
        {% do run_query('create table if not exists identity_state.key_changes (change_type string, from_customer_key string, to_customer_key string, records_moved bigint, as_of_date date, invocation_id string, logged_at timestamp) using parquet') %}
    {% endif %}
    select 1
{% endmacro %}

{# Post-hook of int_customer_keys_by_record: append this run's merges and splits and save
   the assignment, in the model's transaction. Runs pinned to an as-of date
   (var save_identity_state false) only read. #}
{% macro record_identity_changes() %}
    {{ return(adapter.dispatch('record_identity_changes')()) }}
{% endmacro %}

{% macro key_changes_of_run() %}
    select
        key_change,
        previous_customer_key,
        customer_key,
        count(*),
        {{ as_of_date() }},
        '{{ invocation_id }}',
        current_timestamp
    from {{ this }}
    where key_change in ('merged', 'split') and _invocation_id = '{{ invocation_id }}'
    group by key_change, previous_customer_key, customer_key
{% endmacro %}

{% macro key_assignment_of_run(only_this_run=false) %}
    select record_key, customer_key, key_origin_record, current_timestamp as saved_at
    from {{ this }}
    {% if only_this_run %}where _invocation_id = '{{ invocation_id }}'{% endif %}
{% endmacro %}

{# An incremental build rewrote the records of the components it touched: only those
   are saved again, and the records gone are forgotten. #}
{% macro default__record_identity_changes() %}
    {% if var('save_identity_state', true) %}
    insert into identity_state.key_changes {{ key_changes_of_run() }};
    {% if is_incremental() %}
    delete from identity_state.customer_keys
    where
        record_key in (select record_key from {{ this }} where _invocation_id = '{{ invocation_id }}')
        or record_key not in (select record_key from {{ this }});
    insert into identity_state.customer_keys {{ key_assignment_of_run(only_this_run=true) }};
    {% else %}
    create or replace table identity_state.customer_keys as {{ key_assignment_of_run() }};
    {% endif %}
    {% endif %}
{% endmacro %}

{# Spark: one statement per call, and a Parquet table is replaced by overwriting it. #}
{% macro spark__record_identity_changes() %}
    {% if var('save_identity_state', true) and execute %}
        {% do run_query('insert into identity_state.key_changes ' ~ key_changes_of_run()) %}
        {% do run_query('insert overwrite table identity_state.customer_keys ' ~ key_assignment_of_run()) %}
    {% endif %}
    select 1
{% endmacro %}

{# One step of int_identity_components' label propagation: every record takes the smallest
   label among the records sharing a key with it (its own included). DuckDB: the key's
   label, then the record's, two CTEs it materialises. Spark inlines CTEs, and a step that
   read the previous one twice doubled the plan at every step (16 steps ran out of memory
   planning): there the step reads it once, with a window over each key. #}
{% macro label_propagation_step(step) %}
    {{ return(adapter.dispatch('label_propagation_step')(step)) }}
{% endmacro %}

{% macro default__label_propagation_step(step) %}
    key_labels_{{ step }} as {{ materialized_cte() }} (
        select
            edges.key_number,
            min(labels.label) as label
        from edges
        inner join labels_{{ step - 1 }} as labels on edges.record_rank = labels.record_rank
        group by edges.key_number
    ),

    labels_{{ step }} as {{ materialized_cte() }} (
        select
            labels.record_rank,
            least(labels.label, coalesce(min(key_labels.label), labels.label)) as label
        from labels_{{ step - 1 }} as labels
        left join edges on labels.record_rank = edges.record_rank
        left join key_labels_{{ step }} as key_labels on edges.key_number = key_labels.key_number
        group by labels.record_rank, labels.label
    ),
{% endmacro %}

{% macro spark__label_propagation_step(step) %}
    labels_{{ step }} as (
        select
            record_rank,
            min(key_label) as label
        from (
            select
                labels.record_rank,
                case
                    when edges.key_number is null then labels.label
                    else min(labels.label) over (partition by edges.key_number)
                end as key_label
            from labels_{{ step - 1 }} as labels
            left join edges on labels.record_rank = edges.record_rank
        ) as by_key
        group by record_rank
    ),
{% endmacro %}
