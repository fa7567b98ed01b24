# ruff: noqa: E501  (sentence templates read best whole)
"""Generate the labelled story set: synthetic but realistic variants of wire stories, written
deterministically (fixed seed) to pairs.json next to this file.

Per event (one story): the wire article; syndicated copies wrapped in each outlet's own
boilerplate (bylines, newsletter pitches, copyright lines, related-links boxes); rewrites by
other outlets (new headline, trimmed, reworded, reordered); posts quoting the headline (with
"via @outlet", a prefix, or cut off "…"); posts that only share the article's URL with a comment.
Hard negatives come for free and on purpose: several events of each topic, told with the same
wire phrasing, inside the same time window; and every outlet wraps every story in the same
template.

    python tests/data/stories/make_pairs.py          # rewrites pairs.json
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SEED = 20240227

PLACES = [
    ("Kumamoto", "Japan"),
    ("Sendai", "Japan"),
    ("Izmir", "Turkey"),
    ("Antakya", "Turkey"),
    ("Valparaiso", "Chile"),
    ("Arequipa", "Peru"),
    ("Mindanao", "Philippines"),
    ("Sumatra", "Indonesia"),
    ("Lombok", "Indonesia"),
    ("Oaxaca", "Mexico"),
    ("Lyon", "France"),
    ("Marseille", "France"),
    ("Hamburg", "Germany"),
    ("Leipzig", "Germany"),
    ("Porto", "Portugal"),
    ("Seville", "Spain"),
    ("Gdansk", "Poland"),
    ("Brno", "Czech Republic"),
    ("Kharkiv", "Ukraine"),
    ("Odesa", "Ukraine"),
    ("Mombasa", "Kenya"),
    ("Lagos", "Nigeria"),
    ("Manchester", "Britain"),
    ("Glasgow", "Britain"),
    ("Houston", "United States"),
    ("Tulsa", "United States"),
    ("Fresno", "United States"),
    ("Quebec City", "Canada"),
    ("Perth", "Australia"),
    ("Cebu", "Philippines"),
]
FIRST = [
    "Maria",
    "Daniel",
    "Olena",
    "Kenji",
    "Amara",
    "Lukas",
    "Sofia",
    "Pedro",
    "Hannah",
    "Tomasz",
    "Aisha",
    "Viktor",
    "Grace",
    "Mateo",
    "Ingrid",
    "Samuel",
    "Leila",
    "Jonas",
    "Ana",
    "Rafael",
    "Nadia",
    "Oliver",
    "Yuki",
    "Elena",
    "Marcus",
    "Fatima",
    "Henrik",
    "Clara",
    "Omar",
    "Beatriz",
]
LAST = [
    "Novak",
    "Okafor",
    "Tanaka",
    "Fischer",
    "Moreau",
    "Kowalski",
    "Haddad",
    "Petrov",
    "Lindqvist",
    "Mensah",
    "Alvarez",
    "Brennan",
    "Costa",
    "Weber",
    "Sato",
    "Ivanova",
    "Duarte",
    "Nakamura",
    "Schmidt",
    "Ortega",
    "Kim",
    "Adeyemi",
    "Larsen",
    "Rossi",
    "Gallagher",
    "Bauer",
    "Suzuki",
    "Horvat",
    "Mendes",
    "Quinn",
]
COMPANIES = [
    "Norvent",
    "Halcyon",
    "Brightwater",
    "Trelant",
    "Vexa",
    "Corvida",
    "Aldermoor",
    "Quantix",
    "Solvane",
    "Meridel",
    "Pinecrest",
    "Arlo",
    "Kestrel",
    "Obsidia",
    "Lumeno",
    "Castellan",
    "Drayfield",
    "Ostrava",
    "Nimbus",
    "Tessaro",
]
AGENCIES = ["Reuters", "AP", "AFP"]


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


# Each topic: headline forms (wire first), then the wire's sentence forms. Slots in braces.
TOPICS: dict[str, dict[str, list[str]]] = {
    "quake": {
        "titles": [
            "Magnitude {mag} earthquake strikes near {place}, {country}",
            "Strong {mag} quake hits {country}'s {place} region, {dead} reported dead",
            "{country} earthquake: {dead} killed as {mag} tremor shakes {place}",
        ],
        "body": [
            "A magnitude {mag} earthquake struck near {place} in {country} on {day}, the national seismological agency said.",
            "At least {dead} people were killed and {hurt} injured, according to local officials, who warned the toll could rise.",
            "The quake hit at a depth of {depth} kilometres, about {dist} kilometres from the centre of {place}.",
            "Television footage showed collapsed buildings and cracked roads in the older districts of {place}.",
            "Rescue teams were searching through rubble overnight, {official}, a regional emergency official, told reporters.",
            '"We are still counting the damage, and many families have spent the night outside," {official} said.',
            "Power was cut to about {homes} homes and several hospitals were running on generators.",
            "{country} sits on an active fault system and experiences frequent tremors, though quakes of this strength are rarer.",
            "Aftershocks of up to magnitude {after} rattled the area in the hours that followed.",
            "The government said it would send troops and emergency supplies to {place} by {day2}.",
        ],
    },
    "rates": {
        "titles": [
            "{bank} {move} interest rates to {rate}% as inflation {trend}",
            "{bank} surprises markets with {move_noun} to {rate}%",
            "Central bank in {country} {move} key rate, signals {outlook}",
        ],
        "body": [
            "The {bank} {move} its benchmark interest rate to {rate}% on {day}, citing inflation that has {trend} in recent months.",
            "Governor {official} said the decision was taken by a vote of {votes} on the monetary policy committee.",
            '"The outlook remains uncertain, and we will act as needed to bring inflation back to target," {official} told a news conference.',
            "Consumer prices in {country} rose {infl}% in the year to last month, above the bank's target of 2%.",
            "Economists polled before the meeting had expected the rate to stay at {oldrate}%.",
            "The {currency} moved {fx}% against the dollar after the announcement, while government bond yields {yields}.",
            "Business groups in {country} had urged the bank to consider the pressure on borrowers.",
            "Analysts at {company} Capital said the bank was likely to signal {outlook} at its next meeting in {month}.",
            "Mortgage holders face higher monthly payments as lenders pass on the change.",
            "The bank also published new forecasts showing growth of {growth}% this year.",
        ],
    },
    "court": {
        "titles": [
            "{person} {verdict} in {place} {case} trial",
            "Jury {verdict_short} former {role} {person} over {case}",
            "{place} court: {person} faces up to {years} years after {case} verdict",
        ],
        "body": [
            "A jury in {place} on {day} {verdict} {person}, a former {role}, in a case over {case}.",
            "Prosecutors said {person} had used a network of shell companies to hide about {amount} million dollars.",
            "The trial lasted {weeks} weeks and heard evidence from {witnesses} witnesses, including former business partners.",
            '"This verdict shows that nobody is above the law," prosecutor {official} said outside the courthouse.',
            "Lawyers for {person} said they would appeal, calling the case politically motivated.",
            "Sentencing was set for {month}, and {person} faces up to {years} years in prison.",
            "The judge allowed {person} to remain free on bail until then, with travel restrictions.",
            "The case drew wide attention in {country}, where {person} was once a prominent figure.",
            "Two co-defendants pleaded guilty last year and testified for the prosecution.",
            "Court documents showed transfers through banks in three countries over a period of {years} years.",
        ],
    },
    "earnings": {
        "titles": [
            "{company} profit {pmove} {pct}% on {driver}",
            "{company} shares {smove} after quarterly results {beat} forecasts",
            "{company} to cut {jobs} jobs as {quarter} earnings {pmove}",
        ],
        "body": [
            "{company} reported on {day} that its quarterly profit {pmove} {pct}% to {amount} million dollars, helped by {driver}.",
            "Revenue reached {revenue} billion dollars, compared with analysts' estimates of {estimate} billion.",
            "Chief executive {official} said the company would cut {jobs} jobs as part of a plan to reduce costs.",
            '"We are making hard choices to position the business for the next decade," {official} said on a call with analysts.',
            "Shares of {company} {smove} {spct}% in early trading in {place}.",
            "The company kept its full-year outlook unchanged and announced a share buyback of {buyback} million dollars.",
            "{company} has faced pressure from investors to improve margins in its {division} division.",
            "Analysts said the results {beat} expectations but warned that demand remained weak in {country}.",
            "The company said it expected supply costs to ease in the second half of the year.",
            "It will publish its next results in {month}.",
        ],
    },
    "storm": {
        "titles": [
            "Storm {storm} makes landfall near {place}, {homes} homes without power",
            "{storm} batters {country} coast with {wind} km/h winds",
            "Thousands evacuated as storm {storm} nears {place}",
        ],
        "body": [
            "Storm {storm} made landfall near {place} in {country} on {day}, bringing winds of up to {wind} kilometres per hour.",
            "About {homes} homes were left without power and authorities ordered the evacuation of low-lying areas.",
            "Forecasters said up to {rain} millimetres of rain could fall over the next {hours} hours.",
            "{official}, the regional governor, urged residents to stay indoors and avoid travel.",
            '"The next night will be the most dangerous," {official} said in a televised address.',
            "Schools and ports along the coast were closed, and airlines cancelled {flights} flights.",
            "At least {dead} people were reported dead and several others missing.",
            "The storm was expected to weaken as it moved inland towards {place2} by {day2}.",
            "Emergency shelters were opened in sports halls and schools across the region.",
            "It is the {nth} named storm to hit {country} this season.",
        ],
    },
    "talks": {
        "titles": [
            "{country} and {country2} agree to resume talks in {place}",
            "Foreign ministers of {country} and {country2} meet in {place} for first time in {years} years",
            "{place} talks: {country}, {country2} pledge {pledge}",
        ],
        "body": [
            "The foreign ministers of {country} and {country2} met in {place} on {day}, their first meeting in {years} years.",
            "The two sides agreed to {pledge} and to set up working groups on trade and border issues.",
            "{official}, the foreign minister of {country}, described the talks as frank and constructive.",
            '"We have taken a first step, but a long road lies ahead," {official} told reporters after the meeting.',
            "Relations between the two countries have been strained since a dispute over {dispute}.",
            "The meeting was hosted by {place}'s government, which has offered to mediate.",
            "Officials said a follow-up round could take place in {month}.",
            "Opposition politicians in {country2} criticised the talks as premature.",
            "Trade between the two countries fell by {pct}% last year.",
            "Diplomats said the agreement did not address the most sensitive questions.",
        ],
    },
}


# What any story may also say: background, reaction, what comes next. Each event draws its own.
GENERIC = [
    "Residents of {place} described a day of confusion, with rumours spreading faster than facts.",
    "{person2}, who lives nearby, said the mood had changed within hours.",
    '"Nobody expected this to happen so quickly," said {person2}, a shop owner in {place}.',
    "The news dominated front pages in {country} and was widely discussed on social media.",
    "Opposition figures called for an independent inquiry into how the authorities had prepared.",
    "The United Nations said it was following the situation closely.",
    "Local newspapers reported that similar warnings had been issued in {year}.",
    "A spokesperson for the interior ministry declined to comment on the figures.",
    "Markets in {country} were largely unaffected by the news on {day}.",
    "{person2} of the {company} Institute said the long-term effects would take months to assess.",
    "The last comparable event, in {year}, prompted a change in national rules.",
    "Officials promised a full report by the end of {month}.",
    "Volunteers from neighbouring towns arrived to help, bringing food and blankets.",
    "Church and community leaders appealed for calm.",
    "Several foreign governments issued statements of support.",
    "Critics noted that the budget for such work had been cut twice in recent years.",
]


def _slots(rng: random.Random, topic: str, place: str, country: str) -> dict[str, str]:
    place2, country2 = rng.choice([p for p in PLACES if p[1] != country])
    mag = f"{rng.randint(55, 78) / 10:.1f}"
    return {
        "place": place,
        "country": country,
        "place2": place2,
        "country2": country2,
        "mag": mag,
        "after": f"{rng.randint(40, 54) / 10:.1f}",
        "dead": str(rng.randint(3, 140)),
        "hurt": str(rng.randint(20, 900)),
        "depth": str(rng.randint(8, 70)),
        "dist": str(rng.randint(5, 60)),
        "homes": f"{rng.randint(5, 400) * 1000:,}",
        "official": _person(rng),
        "person": _person(rng),
        "person2": _person(rng),
        "year": str(rng.randint(1995, 2021)),
        "day": rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]),
        "day2": rng.choice(["the weekend", "Friday", "the end of the week", "Monday"]),
        "bank": rng.choice(["Reserve Bank", "National Bank", "Central Bank", "Monetary Authority"])
        + " of "
        + country,
        "move": rng.choice(["raises", "cuts"]),
        "move_noun": rng.choice(["a hike", "a cut"]),
        "rate": f"{rng.randint(5, 90) / 10:.2f}",
        "oldrate": f"{rng.randint(5, 90) / 10:.2f}",
        "trend": rng.choice(["cools", "stays high", "picks up", "eases"]),
        "outlook": rng.choice(["further increases", "a pause", "more cuts", "steady policy"]),
        "votes": rng.choice(["seven to two", "six to three", "five to four", "nine to zero"]),
        "infl": f"{rng.randint(15, 95) / 10:.1f}",
        "currency": rng.choice(["currency", "local currency"]),
        "fx": f"{rng.randint(1, 19) / 10:.1f}",
        "yields": rng.choice(["rose", "fell", "were little changed"]),
        "company": rng.choice(COMPANIES),
        "month": rng.choice(["March", "April", "May", "June", "September", "October"]),
        "growth": f"{rng.randint(-10, 35) / 10:.1f}",
        "verdict": rng.choice(["convicted", "acquitted", "found guilty"]),
        "verdict_short": rng.choice(["convicts", "clears"]),
        "role": rng.choice(["mayor", "minister", "banker", "senator", "police chief"]),
        "case": rng.choice(["bribery", "money laundering", "fraud", "tax evasion", "embezzlement"]),
        "years": str(rng.randint(3, 25)),
        "amount": str(rng.randint(12, 980)),
        "weeks": str(rng.randint(2, 14)),
        "witnesses": str(rng.randint(8, 60)),
        "pmove": rng.choice(["rises", "falls", "jumps", "drops"]),
        "pct": str(rng.randint(3, 48)),
        "driver": rng.choice(
            ["strong demand", "lower costs", "weak sales in Asia", "a one-off charge"]
        ),
        "smove": rng.choice(["rise", "fall", "slide", "climb"]),
        "beat": rng.choice(["beat", "missed"]),
        "jobs": f"{rng.randint(2, 90) * 100:,}",
        "quarter": rng.choice(
            ["first-quarter", "second-quarter", "third-quarter", "fourth-quarter"]
        ),
        "revenue": f"{rng.randint(11, 190) / 10:.1f}",
        "estimate": f"{rng.randint(11, 190) / 10:.1f}",
        "spct": f"{rng.randint(5, 120) / 10:.1f}",
        "buyback": str(rng.randint(100, 2000)),
        "division": rng.choice(["consumer", "cloud", "industrial", "retail", "energy"]),
        "storm": rng.choice(
            ["Alba", "Boris", "Ciara", "Dmitri", "Elin", "Fergus", "Gaia", "Hector"]
        ),
        "wind": str(rng.randint(90, 220)),
        "rain": str(rng.randint(80, 400)),
        "hours": str(rng.choice([24, 36, 48, 72])),
        "flights": str(rng.randint(40, 900)),
        "nth": rng.choice(["third", "fourth", "fifth", "sixth"]),
        "pledge": rng.choice(
            ["reopen embassies", "restore direct flights", "exchange prisoners", "ease visa rules"]
        ),
        "dispute": rng.choice(
            ["fishing rights", "a pipeline", "water sharing", "a border crossing"]
        ),
    }


BOILERPLATE = {
    "dailyherald": (
        [
            "Sign up for the Daily Herald morning briefing, delivered to your inbox every weekday.",
            "Updated {time} ago. Share this article on social media or by email.",
        ],
        [
            "This story was automatically published from a wire agency feed without modifications to the text.",
            "Copyright 2024 Daily Herald Media Group. All rights reserved.",
            "Related: Five things to know this morning. Weather forecast for the week. Letters to the editor.",
        ],
    ),
    "metrotimes": (
        ["Metro Times staff and wire reports."],
        [
            "Support independent journalism: subscribe to Metro Times for less than a coffee a week.",
            "Comments are closed for this article. Read our community guidelines.",
            "More from Metro Times: city council news, traffic updates and the weekend events guide.",
        ],
    ),
    "globalpost": (
        ["GlobalPost is a partner of {agency}. Listen to this article, 4 minutes."],
        [
            "Reporting by {agency} correspondents; editing by the GlobalPost world desk.",
            "Our standards: The Trust Principles. Get the GlobalPost app for breaking news alerts.",
        ],
    ),
    "coastnews": (
        ["Coast News Network | Published {time} ago | Advertisement"],
        [
            "Have a news tip? Contact the Coast News Network newsroom.",
            "Download our app. Follow us on social media. Copyright Coast News Network.",
        ],
    ),
}
REWRITERS = ["worldbrief", "theledger", "northstar"]
TWEETERS = ["@newswatcher", "@policyjunkie", "@mkt_daily", "@citydesk", "@jane_reads"]

SUBSTITUTIONS = [
    (" said", " stated"),
    (" told reporters", " told journalists"),
    ("At least ", "No fewer than "),
    (" on {day}", ""),
    ("about ", "roughly "),
    (" were ", " had been "),
    ("officials", "authorities"),
    (" killed", " dead"),
    ("The company", "The firm"),
    (" meeting", " session"),
    ("expected", "forecast"),
    ("prison", "jail"),
    ("residents", "people living there"),
]


def _fill(template: str, slots: dict[str, str]) -> str:
    return template.format(**slots)


def _rewrite_sentence(rng: random.Random, sentence: str) -> str:
    for old, new in rng.sample(SUBSTITUTIONS, k=4):
        if old in sentence:
            sentence = sentence.replace(old, new, 1)
    return sentence


def build(events_per_topic: int = 8, seed: int = SEED, pairs: bool = True) -> dict[str, Any]:
    """The labelled set: entries (with the event each tells) and the pairs to score (all
    positive pairs and the hard negative ones; ``pairs=False`` for a large set to time)."""
    rng = random.Random(seed)
    base = datetime(2024, 2, 20, 6, 0, tzinfo=UTC)
    hours = max(96, events_per_topic * 12)
    entries: list[dict[str, Any]] = []

    def add(
        event: str,
        feed: str,
        kind: str,
        title: str,
        text: str,
        url: str | None,
        links: list[str],
        published: datetime,
        variant: str,
    ) -> None:
        entries.append(
            {
                "key": f"e{len(entries) + 1}",
                "event": event,
                "variant": variant,
                "feed": feed,
                "kind": kind,
                "title": title,
                "text": text,
                "url": url,
                "links": links,
                "published": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )

    for topic, forms in TOPICS.items():
        places = rng.sample(PLACES, k=min(events_per_topic, len(PLACES)))
        for n in range(events_per_topic):
            event = f"{topic}-{n + 1}"
            slots = _slots(rng, topic, *places[n % len(places)])
            # events of one topic fall within a few days of each other: hard negatives (a big
            # set spreads over more days: a couple of events of a topic a day)
            when = base + timedelta(hours=rng.randint(0, hours), minutes=rng.randint(0, 59))
            agency = rng.choice(AGENCIES)
            # the wire's own telling: the lead, some of the topic's usual sentences, some of its own
            chosen = forms["body"][:2] + rng.sample(forms["body"][2:], k=rng.randint(4, 7))
            chosen += rng.sample(GENERIC, k=rng.randint(3, 6))
            sentences = [_fill(s, slots) for s in chosen]
            order = sentences[:2] + rng.sample(sentences[2:], k=len(sentences) - 2)
            paragraphs = [" ".join(order[i : i + 2]) for i in range(0, len(order), 2)]
            title = _fill(forms["titles"][0], slots)
            slug = title.lower().replace(" ", "-").replace(",", "").replace("'", "")[:60]
            wire_url = f"https://wire.example/{agency.lower()}/{event}/{slug}"
            add(
                event,
                f"wire-{agency.lower()}",
                "article",
                title,
                "\n\n".join(paragraphs),
                wire_url,
                [],
                when,
                "wire",
            )
            # syndicated copies, each in its outlet's template
            for outlet in rng.sample(sorted(BOILERPLATE), k=rng.randint(1, 3)):
                head, foot = BOILERPLATE[outlet]
                fill = {"time": f"{rng.randint(1, 11)} hours", "agency": agency}
                kept = paragraphs if rng.random() < 0.6 else paragraphs[:-1]
                text = "\n\n".join(
                    [h.format(**fill) for h in head]
                    + [f"({agency}) " + kept[0]]
                    + kept[1:]
                    + [f.format(**fill) for f in foot]
                )
                copy_title = title if rng.random() < 0.7 else title.title()
                url = f"https://{outlet}.example/world/2024/{event}-{rng.randint(1000, 9999)}"
                add(
                    event,
                    outlet,
                    "article",
                    copy_title,
                    text,
                    url,
                    [],
                    when + timedelta(minutes=rng.randint(5, 300)),
                    "syndicated",
                )
            # rewrites: another headline, reworded, trimmed, reordered
            for outlet in rng.sample(REWRITERS, k=rng.randint(1, 2)):
                heavy = rng.random() < 0.4
                body = order[: rng.randint(6, len(order))]
                body = [
                    _rewrite_sentence(rng, s) if rng.random() < (0.5 if heavy else 0.25) else s
                    for s in body
                ]
                if heavy:
                    body = body[:1] + rng.sample(body[1:], k=len(body) - 1)
                intro = rng.choice(
                    [
                        f"Here is what we know so far about events in {slots['place']}.",
                        f"Our correspondent in {slots['country']} reports on the latest developments.",
                        f"The news broke early, and reaction in {slots['country']} was swift.",
                    ]
                )
                text = "\n\n".join(
                    [intro] + [" ".join(body[i : i + 3]) for i in range(0, len(body), 3)]
                )
                new_title = _fill(rng.choice(forms["titles"][1:]), slots)
                url = f"https://{outlet}.example/{when:%Y/%m/%d}/{event}-story"
                add(
                    event,
                    outlet,
                    "article",
                    new_title,
                    text,
                    url,
                    [],
                    when + timedelta(minutes=rng.randint(30, 900)),
                    "rewrite-heavy" if heavy else "rewrite",
                )
            # posts quoting the headline
            for account in rng.sample(TWEETERS, k=rng.randint(1, 2)):
                style = rng.randrange(4)
                short = f"https://t.example/{rng.randint(10**6, 10**7)}"
                if style == 0:
                    post = f"{title} {short}"
                elif style == 1:
                    post = f"{rng.choice(['Must read:', 'Worth your time:', 'Developing:'])} {title} via @{agency.lower()}"
                elif style == 2:
                    post = f"RT @{agency.lower()}: {title} {short}"
                else:
                    post = f"RT @{agency.lower()}: {title[: max(30, len(title) - 15)]}…"
                add(
                    event,
                    f"social{account}",
                    "post",
                    post,
                    post,
                    None,
                    [],
                    when + timedelta(minutes=rng.randint(10, 600)),
                    "post-title",
                )
            # posts sharing the URL with a comment of their own
            for account in rng.sample(TWEETERS, k=rng.randint(0, 2)):
                comment = rng.choice(
                    [
                        "This is worth reading in full.",
                        "Huge if true.",
                        "Thread below 👇",
                        "Not surprised at all, frankly.",
                        "Wow.",
                        "Keep an eye on this one.",
                    ]
                )
                target = rng.choice(
                    [e for e in entries if e["event"] == event and e["kind"] == "article"]
                )
                shared = datetime.fromisoformat(target["published"].replace("Z", "+00:00"))
                add(
                    event,
                    f"social{account}",
                    "post",
                    f"{comment} {target['url']}",
                    f"{comment} {target['url']}",
                    None,
                    [target["url"]],
                    shared + timedelta(minutes=rng.randint(2, 600)),
                    "post-url",
                )
    # posts about nothing in the set, from the same accounts
    chatter = [
        "Good morning everyone, coffee first and then the headlines.",
        "Reading a long report on housing policy tonight, more thoughts tomorrow.",
        "Anyone else watching the match tonight? That second half was something.",
        "Our weekly newsletter is out, with a guide to the new tram lines.",
        "Spent the afternoon at the archive looking at maps from the 1920s.",
        "Reminder: the podcast is on a short break until the end of the month.",
        "Three books I am reading this week, all about the history of bridges.",
        "The bakery on our street finally reopened and the queue is around the block.",
        "Slow news day, which is honestly a relief.",
        "If you missed the panel yesterday the recording is now online.",
        "Thank you all for the kind messages about the award.",
        "Trying a new tool for reading feeds, first impressions are good.",
        "Heavy rain here this morning, stay safe on the roads.",
        "Long thread on the history of the city's water supply coming later.",
        "We are hiring a data reporter, please share with anyone interested.",
    ]
    for n, text in enumerate(chatter):
        add(
            f"noise-{n}",
            f"social{rng.choice(TWEETERS)}",
            "post",
            text,
            text,
            None,
            [],
            base + timedelta(hours=rng.randint(0, 96)),
            "noise",
        )
    return {"seed": seed, "entries": entries, "pairs": _pairs(entries) if pairs else []}


def _pairs(entries: list[dict[str, Any]]) -> list[list[Any]]:
    """Every positive pair; negatives that are hard (same topic or same outlet), all of them."""
    pairs: list[list[Any]] = []
    for a, b in itertools.combinations(entries, 2):
        same = a["event"] == b["event"]
        topic_a, topic_b = a["event"].rsplit("-", 1)[0], b["event"].rsplit("-", 1)[0]
        hard = topic_a == topic_b or a["feed"] == b["feed"]
        if same or hard:
            pairs.append([a["key"], b["key"], same])
    return pairs


def main() -> None:
    data = build()
    entries = ",\n  ".join(json.dumps(e, ensure_ascii=False) for e in data["entries"])
    pairs = ",\n  ".join(json.dumps(p) for p in data["pairs"])
    text = f'{{"seed": {data["seed"]},\n "entries": [\n  {entries}\n ],\n "pairs": [\n  {pairs}\n ]}}\n'
    json.loads(text)  # the hand-made layout is still JSON
    (HERE / "pairs.json").write_text(text)
    positives = sum(1 for p in data["pairs"] if p[2])
    print(f"{len(data['entries'])} entries, {len(data['pairs'])} pairs, {positives} positive")


if __name__ == "__main__":
    main()
