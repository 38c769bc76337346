"""Worked examples from the literature, checked figure by figure."""

from __future__ import annotations

from helpers import run

from governance import Rules, certify, verify

SCHULZE_WIKI = [
    (5, ("A", "C", "B", "E", "D")),
    (5, ("A", "D", "E", "C", "B")),
    (8, ("B", "E", "D", "A", "C")),
    (3, ("C", "A", "B", "E", "D")),
    (7, ("C", "A", "E", "B", "D")),
    (2, ("C", "B", "A", "D", "E")),
    (7, ("D", "C", "E", "B", "A")),
    (8, ("E", "B", "A", "D", "C")),
]


def test_schulze_wikipedia_45_voters() -> None:
    """Wikipedia, "Schulze method", the example with 45 voters and 5 candidates A-E.

    The article gives the pairwise preference matrix d[*,*], the strongest paths p[*,*] and the
    ranking E > A > C > B > D; we check all three.
    """
    result = run(Rules(method="schulze", options=tuple("ABCDE")), SCHULZE_WIKI)
    d = result.details["pairwise"]
    expected_d = {
        "A": {"B": 20, "C": 26, "D": 30, "E": 22},
        "B": {"A": 25, "C": 16, "D": 33, "E": 18},
        "C": {"A": 19, "B": 29, "D": 17, "E": 24},
        "D": {"A": 15, "B": 12, "C": 28, "E": 14},
        "E": {"A": 23, "B": 27, "C": 21, "D": 31},
    }
    assert d == expected_d
    expected_p = {
        "A": {"B": 28, "C": 28, "D": 30, "E": 24},
        "B": {"A": 25, "C": 28, "D": 33, "E": 24},
        "C": {"A": 25, "B": 29, "D": 29, "E": 24},
        "D": {"A": 25, "B": 28, "C": 28, "E": 24},
        "E": {"A": 25, "B": 28, "C": 28, "D": 31},
    }
    assert result.details["strongest_paths"] == expected_p
    assert result.ranking == (("E",), ("A",), ("C",), ("B",), ("D",))
    assert result.winners == ("E",)
    assert result.tie_breaks == ()
    assert verify(certify(result))


TENNESSEE = [
    (42, ("Memphis", "Nashville", "Chattanooga", "Knoxville")),
    (26, ("Nashville", "Chattanooga", "Knoxville", "Memphis")),
    (15, ("Chattanooga", "Knoxville", "Nashville", "Memphis")),
    (17, ("Knoxville", "Chattanooga", "Nashville", "Memphis")),
]
CITIES = ("Memphis", "Nashville", "Chattanooga", "Knoxville")


def test_tennessee_capital_irv() -> None:
    """Wikipedia, "Instant-runoff voting" / "Condorcet method": the Tennessee capital example.

    With 42/26/15/17 per cent of voters near each city, IRV eliminates Chattanooga (15), then
    Nashville (26) and elects Knoxville with 58 of 100.
    """
    result = run(Rules(method="instant_runoff", options=CITIES), TENNESSEE)
    rounds = result.details["rounds"]
    assert rounds[0]["votes"] == {"Memphis": 42, "Nashville": 26, "Chattanooga": 15, "Knoxville": 17}
    assert rounds[0]["eliminated"] == "Chattanooga"
    assert rounds[1]["votes"] == {"Memphis": 42, "Nashville": 26, "Knoxville": 32}
    assert rounds[1]["eliminated"] == "Nashville"
    assert rounds[2]["votes"] == {"Memphis": 42, "Knoxville": 58}
    assert result.winners == ("Knoxville",)
    assert result.ranking == (("Knoxville",), ("Memphis",), ("Nashville",), ("Chattanooga",))


def test_tennessee_capital_condorcet_and_plurality() -> None:
    """Same example: Nashville is the Condorcet winner (Schulze elects it; the articles give the
    pairwise results 68-32 over Memphis, 68-32 over Chattanooga and Knoxville); plurality elects Memphis.
    """
    schulze = run(Rules(method="schulze", options=CITIES), TENNESSEE)
    assert schulze.winners == ("Nashville",)
    d = schulze.details["pairwise"]
    assert (d["Nashville"]["Memphis"], d["Nashville"]["Chattanooga"], d["Nashville"]["Knoxville"]) == (58, 68, 68)
    assert d["Chattanooga"]["Knoxville"] == 83
    assert schulze.ranking == (("Nashville",), ("Chattanooga",), ("Knoxville",), ("Memphis",))
    plurality = run(Rules(method="single_choice", options=CITIES), [(n, b[0]) for n, b in TENNESSEE])
    assert plurality.winners == ("Memphis",)


FOOD = [
    (4, ("Oranges",)),
    (2, ("Pears", "Oranges")),
    (8, ("Chocolate", "Strawberries")),
    (4, ("Chocolate", "Hamburgers")),
    (1, ("Strawberries",)),
    (1, ("Hamburgers",)),
]


def test_stv_wikipedia_food_example() -> None:
    """Wikipedia, "Single transferable vote", the food example: 20 voters, 3 seats, Droop quota 6.

    Chocolate is elected with 12; its surplus of 6 moves at 6/12 = 0.5: 4 votes to Strawberries,
    2 to Hamburgers. Pears is excluded and its 2 votes elect Oranges; Hamburgers is excluded and
    Strawberries takes the last seat.
    """
    rules = Rules(method="stv", options=("Oranges", "Pears", "Chocolate", "Strawberries", "Hamburgers"), seats=3)
    result = run(rules, FOOD)
    d = result.details
    assert d["quota"] == 6
    surplus = d["stages"][1]
    assert surplus["action"] == "transfer of the surplus of Chocolate"
    assert surplus["transfers"] == {"Hamburgers": "2.00000", "Strawberries": "4.00000"}
    assert d["stages"][2]["action"] == "exclusion of Pears"
    assert d["stages"][2]["elected"] == ["Oranges"]
    assert set(result.winners) == {"Chocolate", "Oranges", "Strawberries"}
    assert result.winners[0] == "Chocolate"
    assert verify(certify(result))


def test_stv_transfer_value_truncated_to_five_decimals() -> None:
    """Scottish Local Government Elections Order 2007, sch. 1 rule 48(3): the transfer value is
    surplus x value / total "calculated to five decimal places (any remainder being ignored)".

    7 ballots A>B and quota 3 (7 valid, 1 seat... here 2 seats: quota 7//3+1 = 3): A's surplus 4
    over 7 papers gives 4/7 = 0.571428... truncated to 0.57142 per paper, 3.99994 in all.
    """
    rules = Rules(method="stv", options=("A", "B", "C"), seats=2)
    result = run(rules, [(7, ("A", "B"))])
    stage = result.details["stages"][1]
    assert stage["transfers"] == {"B": "3.99994"}
    assert stage["lost_to_truncation"] == "0.00006"
    assert result.winners == ("A", "B")


def test_majority_judgment_balinski_laraki_definitions() -> None:
    """Majority judgment as defined by Balinski & Laraki (Majority Judgment, MIT Press 2011):
    the majority grade is the lower middlemost grade; ties on it are broken by the majority gauge
    (p = share above, q = share below: "+" with p if p > q, else "-" with q, + beats -, larger p /
    smaller q better). Hand-worked example with 10 voters and grades excellent..reject.

    X: excellent 3, very_good 2, good 2, fair 2, poor 1 -> lower median (5th of 10 from the top
       when sorted, i.e. the 5th worst) = very_good? sorted worst first: poor, fair, fair, good,
       good, very_good, ... the lower median is position (10-1)//2 = 4 -> good; p = 5/10, q = 3/10: good+.
    Y: very_good 1, good 6, fair 3 -> good; p = 1/10, q = 3/10: good-.
    Z: excellent 4, poor 6 -> poor.
    Ranking X > Y > Z.
    """
    rules = Rules(method="majority_judgment", options=("X", "Y", "Z"))
    x = ["excellent"] * 3 + ["very_good"] * 2 + ["good"] * 2 + ["fair"] * 2 + ["poor"]
    y = ["very_good"] + ["good"] * 6 + ["fair"] * 3
    z = ["excellent"] * 4 + ["poor"] * 6
    groups = [(1, {"X": x[i], "Y": y[i], "Z": z[i]}) for i in range(10)]
    result = run(rules, groups)
    opts = result.details["options"]
    assert (opts["X"]["majority_grade"], opts["X"]["gauge"]) == ("good", "+")
    assert (opts["X"]["better_share"], opts["X"]["worse_share"]) == ("1/2", "3/10")
    assert (opts["Y"]["majority_grade"], opts["Y"]["gauge"]) == ("good", "-")
    assert opts["Z"]["majority_grade"] == "poor"
    assert result.ranking == (("X",), ("Y",), ("Z",))
    assert result.winners == ("X",)
