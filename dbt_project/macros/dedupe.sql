{# Latest version of each key: newest cursor first, then the latest load, then the last
   line in the file. Portable (no QUALIFY) so the project runs on Spark too. #}
{% macro latest_version(relation, key, cursor=none) -%}
    select {{ star_except(['_version_rank']) }}
    from (
        select
            *,
            row_number() over (
                partition by {{ key }}
                order by {% if cursor %}{{ cursor }} desc nulls last, {% endif %}_load_id desc, _row_number desc
            ) as _version_rank
        from {{ relation }}
    ) as versions
    where _version_rank = 1
{%- endmacro %}
