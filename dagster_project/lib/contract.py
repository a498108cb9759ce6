"""The ledger contract: the one definition of every landing file's columns.

The loader validates against it, the generator writes it, and
docs/ledger_contract.md is generated from it (`lending contract-doc`).
"""

from dataclasses import dataclass, field

ASSET_CLASSES = ("car", "mortgage", "student", "guaranteed", "consumer", "sme")
REPAYMENT_FREQUENCIES = ("monthly",)
COLLATERAL_TYPES = ("none", "vehicle", "property", "equipment", "deposit")
PAYMENT_TYPES = ("payment", "reversal")
PAYMENT_CHANNELS = ("direct_debit", "bank_transfer", "app", "cash", "collection_agent")
ACTION_TYPES = (
    "call", "sms", "bureau_report", "letter", "lawyer_letter", "visit", "lawsuit", "enforcement",
)
ACTION_OUTCOMES = ("connected", "no_answer", "wrong_number", "refused", "delivered")
TAPE_STATUSES = ("active", "restructured", "paid_off", "written_off")
BORROWER_EVENT_TYPES = (
    "guarantor_withdrawal_request",
    "restructuring_request",
    "credit_increase_request",
    "address_change",
    "business_change",
    "bank_account_change",
    "sued_by_creditor",
    "major_customer_lost",
    "natural_disaster",
    "key_person_change",
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # SQL type the loader casts to: VARCHAR, DATE, INTEGER, DECIMAL(18,2), DECIMAL(9,6), BOOLEAN
    description: str
    nullable: bool = False
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    personal: bool = False  # personal data: never published to BI


@dataclass(frozen=True)
class RowRule:
    """A rule across the columns of one row: `breached` is SQL over the row's columns cast to their types."""
    column: str
    breached: str
    message: str


@dataclass(frozen=True)
class Ledger:
    name: str
    description: str
    key: tuple[str, ...]
    date_column: str | None  # business date that may not lie after the landing day
    columns: tuple[Column, ...] = field(default_factory=tuple)
    row_rules: tuple[RowRule, ...] = ()
    decides_loan_state: bool = False  # a quarantined row leaves its loan's state unknown: its day's rows are held
    nullable_columns_optional: bool = False  # a file may leave out a column that may be empty

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


MONEY = "DECIMAL(18,2)"

LEDGERS: dict[str, Ledger] = {
    ledger.name: ledger
    for ledger in (
        Ledger(
            name="loans",
            description=(
                "New and changed loan contracts. A loan appears on the day it is disbursed and again "
                "on any day its contract changes; the latest landing wins."
            ),
            key=("loan_id",),
            date_column="origination_date",
            decides_loan_state=True,
            columns=(
                Column("loan_id", "VARCHAR", "Loan contract id, unique in the book."),
                Column("borrower_id", "VARCHAR", "Borrower (customer) id; one borrower can hold several loans."),
                Column("borrower_name", "VARCHAR", "Borrower's name.", nullable=True, personal=True),
                Column("borrower_phone", "VARCHAR", "Borrower's phone number.", nullable=True, personal=True),
                Column("borrower_id_number", "VARCHAR", "Borrower's national ID number.", nullable=True, personal=True),
                Column("asset_class", "VARCHAR", "Asset class (资产类别).", allowed=ASSET_CLASSES),
                Column("principal_amount", MONEY, "Disbursed principal.", minimum=0.01),
                Column("interest_rate", "DECIMAL(9,6)", "Nominal annual interest rate, 0.085 = 8.5%.", minimum=0),
                Column("origination_date", "DATE", "Disbursement date."),
                Column("maturity_date", "DATE", "Due date of the last installment."),
                Column("term_months", "INTEGER", "Number of months from disbursement to maturity.", minimum=1),
                Column("repayment_frequency", "VARCHAR", "How often installments fall due.", allowed=REPAYMENT_FREQUENCIES),
                Column("branch_id", "VARCHAR", "Originating branch."),
                Column("guarantor_id", "VARCHAR", "Guarantor, if any.", nullable=True),
                Column("collateral_type", "VARCHAR", "Collateral pledged.", allowed=COLLATERAL_TYPES),
                Column("collateral_value", MONEY, "Appraised collateral value at origination.", nullable=True, minimum=0),
                Column("monthly_income", MONEY, "Borrower's declared monthly income.", nullable=True, minimum=0),
            ),
        ),
        Ledger(
            name="repayment_schedule",
            description=(
                "Installments per loan. Lands with the loan; a changed schedule (restructuring) "
                "lands again in full and replaces the earlier one."
            ),
            key=("loan_id", "installment_number"),
            date_column=None,
            decides_loan_state=True,
            columns=(
                Column("loan_id", "VARCHAR", "Loan the installment belongs to."),
                Column("installment_number", "INTEGER", "1 for the first installment, counting up.", minimum=1),
                Column("due_date", "DATE", "Date the installment falls due; unpaid the day after, it is overdue."),
                Column("principal_due", MONEY, "Principal due in this installment.", minimum=0),
                Column("interest_due", MONEY, "Interest due in this installment.", minimum=0),
            ),
        ),
        Ledger(
            name="repayments",
            description=(
                "Payment transactions on their value date. A reversal (bounced debit, booking error) "
                "is a row of its own that points at the payment it undoes and repeats its amounts."
            ),
            key=("payment_id",),
            date_column="value_date",
            columns=(
                Column("payment_id", "VARCHAR", "Transaction id, unique in the book."),
                Column("loan_id", "VARCHAR", "Loan paid."),
                Column("value_date", "DATE", "Value date of the payment or of the reversal."),
                Column("payment_type", "VARCHAR", "payment, or reversal of an earlier payment.", allowed=PAYMENT_TYPES),
                Column("reverses_payment_id", "VARCHAR", "For a reversal: the payment it undoes.", nullable=True),
                Column("amount", MONEY, "Amount received (or reversed), all components.", minimum=0),
                Column("principal_paid", MONEY, "Part applied to principal.", minimum=0),
                Column("interest_paid", MONEY, "Part applied to interest.", minimum=0),
                Column("penalty_paid", MONEY, "Part applied to late fees and penalty interest.", minimum=0),
                Column("channel", "VARCHAR", "Channel the money came through.", allowed=PAYMENT_CHANNELS),
            ),
            row_rules=(RowRule("amount", "amount <> principal_paid + interest_paid + penalty_paid",
                               "is not principal_paid + interest_paid + penalty_paid"),),
            decides_loan_state=True,
        ),
        Ledger(
            name="collection_actions",
            description="One row per collection action (催收手段) taken on a loan.",
            key=("action_id",),
            date_column="action_date",
            columns=(
                Column("action_id", "VARCHAR", "Action id, unique in the book."),
                Column("loan_id", "VARCHAR", "Loan collected."),
                Column("action_date", "DATE", "Day the action was taken."),
                Column("action_type", "VARCHAR", "Collection means, in rising pressure.", allowed=ACTION_TYPES),
                Column("collector_id", "VARCHAR", "Collector who took the action."),
                Column("team_id", "VARCHAR", "Collector's team."),
                Column("outcome", "VARCHAR", "Result of the attempt.", allowed=ACTION_OUTCOMES),
                Column("reached_borrower", "BOOLEAN", "True when the borrower himself was reached (effective contact)."),
                Column("promise_amount", MONEY, "Amount the borrower promised to pay, if any.", nullable=True, minimum=0.01),
                Column("promise_date", "DATE", "Date by which the borrower promised to pay, if any.", nullable=True),
            ),
        ),
        Ledger(
            name="borrower_events",
            description="Dated events behind the early-warning signals (危险信号).",
            key=("event_id",),
            date_column="event_date",
            columns=(
                Column("event_id", "VARCHAR", "Event id, unique in the book."),
                Column("loan_id", "VARCHAR", "Loan concerned."),
                Column("borrower_id", "VARCHAR", "Borrower concerned."),
                Column("event_date", "DATE", "Day the event was recorded."),
                Column("event_type", "VARCHAR", "What happened.", allowed=BORROWER_EVENT_TYPES),
                Column("detail", "VARCHAR", "Free text from the loan officer.", nullable=True),
            ),
        ),
        Ledger(
            name="write_offs",
            description="Write-offs (核销): the loan's remaining principal is taken off the book as bad debt.",
            key=("loan_id",),
            date_column="write_off_date",
            decides_loan_state=True,
            columns=(
                Column("loan_id", "VARCHAR", "Loan written off; a loan is written off once."),
                Column("write_off_date", "DATE", "Day of the write-off."),
                Column("written_off_amount", MONEY, "Principal written off.", minimum=0),
            ),
        ),
    )
}


# A month-end status tape: history older than the daily ledgers (or a book without them), one row
# per account and month end. Read by the same models as the book's own month ends.
MONTH_END_TAPE = Ledger(
    name="month_end_tape",
    description=(
        "One row per account and month end with its delinquency. Each portfolio is a tape of its own; "
        "loading a portfolio again replaces it, other portfolios are untouched."
    ),
    key=("portfolio", "loan_id", "month_end"),
    date_column=None,
    nullable_columns_optional=True,
    columns=(
        Column("portfolio", "VARCHAR", "Portfolio (the tape's name): roll rates and Pi are per portfolio."),
        Column("loan_id", "VARCHAR", "Account id, unique in the portfolio."),
        Column("asset_class", "VARCHAR", "Asset class; any name (the book's classes, or e.g. credit_card)."),
        Column("month_end", "DATE", "Last day of the month the row describes."),
        Column("months_past_due", "INTEGER", "Installments (months) past due: 0 is current, k is bucket Mk; "
               "the worst bucket takes everything above it (7 or more is M6+). Give this or days_past_due.",
               nullable=True, minimum=0),
        Column("days_past_due", "INTEGER", "Days past due, bucketed by the seed delinquency_buckets. Wins over "
               "months_past_due when both are given.", nullable=True, minimum=0),
        Column("status", "VARCHAR", "active and restructured accounts are in a bucket by their arrears; "
               "paid_off and written_off end the account.", allowed=TAPE_STATUSES),
        Column("balance", MONEY, "Outstanding balance. Optional: without it the balance-weighted roll rates "
               "are null (count-weighted ones are complete).", nullable=True, minimum=0),
    ),
    row_rules=(
        RowRule("month_end", "month_end <> last_day(month_end)", "is not the last day of its month"),
        RowRule("months_past_due", "status in ('active', 'restructured') and months_past_due is null "
                "and days_past_due is null", "is empty and so is days_past_due: an open account needs one of them"),
    ),
)
