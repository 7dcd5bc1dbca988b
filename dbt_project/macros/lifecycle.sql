{# The lifecycle stage (domain.md), first match wins. One definition for the history and
   for the 360, so "current stage" means the same everywhere. #}
{% macro lifecycle_stage(completed_orders, days_since_last_order, latest_nps_class, has_referral, loyalty_tier, is_lead) -%}
    case
        when {{ completed_orders }} >= 1 and {{ days_since_last_order }} > {{ var('churn_window_days') }} then 'lapsed'
        when {{ completed_orders }} >= 2 and (
            {{ latest_nps_class }} = 'promoter'
            or {{ has_referral }}
            or {{ loyalty_tier }} in {{ sql_list(var('top_loyalty_tiers')) }}
        ) then 'loyalty_advocacy'
        when {{ completed_orders }} >= 2 then 'retention'
        when {{ completed_orders }} = 1 then 'conversion'
        when {{ is_lead }} then 'acquisition'
        else 'reach_awareness'
    end
{%- endmacro %}

{# RFM segment from the three 1-5 scores, first match wins. #}
{% macro rfm_segment(r, f, m) -%}
    case
        when {{ r }} >= 4 and {{ f }} >= 4 and {{ m }} >= 4 then 'champions'
        when {{ r }} <= 2 and {{ f }} >= 4 and {{ m }} >= 4 then 'cant_lose_them'
        when {{ r }} >= 3 and {{ f }} >= 4 then 'loyal'
        when {{ r }} <= 2 and {{ f }} >= 3 then 'at_risk'
        when {{ r }} >= 4 and {{ f }} >= 2 then 'potential_loyalist'
        when {{ r }} >= 4 and {{ f }} = 1 then 'new'
        when {{ r }} = 3 then 'need_attention'
        when {{ r }} = 2 then 'hibernating'
        else 'lost'
    end
{%- endmacro %}

{# Post-hook of the incremental lifecycle history: the current interval of a customer the
   run did not rebuild runs to the new as-of date (one update per customer, not a rebuild
   of the history). #}
{% macro age_current_intervals() -%}
    {%- if not is_incremental() %}select 1{% else -%}
    update {{ this }}
    set days_in_stage = {{ dbt.datediff('valid_from', as_of_date(), 'day') }}
    where is_current
    {%- endif %}
{%- endmacro %}
