"""Risk-compensation funds: who may do what to a fund, and every write that moves its money.

Modules, by what they are about::

    access      tenancy and the lock-and-load every money-changing write starts with
    registry    funds, cooperating banks, deposits, balance and ledger pages
    rules       rule versions: which is in force on a day, adding one, backdating
    pool        loans registered into a fund's pool on a stated entry date, checked at entry; repayments
    claims      filing (idempotent) and reading claims
    evaluation  judging a claim on its terms: rule checks, payout under the caps, review score
    decisions   approval, rejection, requests for information and supplements
    recoveries  recoveries on paid claims: claw-back pro rata, or settlement of a pre-compensation
    corrections reversals of deposits, asked by one manager key and approved by another
    subsidy_programmes  subsidy programmes as versioned rule data: in force on a day, adding one, backdating
    subsidies   subsidy applications: judged, computed, paid from the subsidy account; statistics
    ledger      the fund lock and the double-entry ledger
    views       stored pool loans and claims rendered with reasons in a language
    statistics  per-fund figures for the regulator
"""
