-- One row per customer_key with an assigned account manager, and the size of that
-- manager's book (distinct customers), which decides dedicated personal assistance.
with contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    where account_manager_id is not null
),

keys as (
    select * from {{ ref('int_customer_keys_of_crm_contacts') }}
),

assignments as (
    select distinct
        keys.customer_key,
        contacts.account_manager_id
    from contacts
    inner join keys on contacts.contact_id = keys.record_id
),

books as (
    select
        account_manager_id,
        count(distinct customer_key) as book_size
    from assignments
    group by account_manager_id
)

select
    assignments.customer_key,
    -- A customer linked to several managers keeps the one with the smallest book.
    {{ min_by('assignments.account_manager_id', sort_key(['books.book_size', 'assignments.account_manager_id'])) }}
        as account_manager_id,
    min(books.book_size) as account_manager_book_size
from assignments
inner join books on assignments.account_manager_id = books.account_manager_id
group by assignments.customer_key
