{# Identity state that outlives a run: the last key assignment and the log of key
   changes. Created on run start (declared as the `identity_state` source) so models and
   unit tests can read them on the very first run. #}
{% macro create_identity_state() %}
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

{# Post-hook of int_customer_keys_by_record: append this run's merges and splits and save
   the assignment, in the model's transaction. Runs pinned to an as-of date
   (var save_identity_state false) only read. #}
{% macro record_identity_changes() %}
    {% if var('save_identity_state', true) %}
    insert into identity_state.key_changes
    select
        key_change,
        previous_customer_key,
        customer_key,
        count(*),
        {{ as_of_date() }},
        '{{ invocation_id }}',
        current_timestamp
    from {{ this }}
    where key_change in ('merged', 'split')
    group by key_change, previous_customer_key, customer_key;

    create or replace table identity_state.customer_keys as
    select record_key, customer_key, key_origin_record, current_timestamp as saved_at
    from {{ this }};
    {% endif %}
{% endmacro %}
