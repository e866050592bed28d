"""The built-in demo news: fictional outlets and original, retold wire-style reports.

Everything here is written for the demo; the outlets do not exist. The set is built
around one seed case and a ring of hard negatives:

* the seed case: coordinated assaults on towns across Balochistan followed by a
  mobile internet suspension, carried by four outlets in four wordings (one a
  near-verbatim syndicated copy) plus a follow-up the next morning. Both demo
  watches must catch it, and each must fold the reports into a single story;
* a second, unrelated internet shutdown (Iraq, during school exams), in two outlets;
* hard negatives that share words or places with the watches but not their
  meaning: a US government shutdown, ransomware at banks, a cricket "attack" in
  Quetta, an assault in Iran's Sistan and Baluchestan, Gwadar port economics,
  power cuts, a cable fault and a culture festival.

`published` times are fixed around `DEMO_EPOCH`; `DemoSite` shifts them all by one
offset when it starts so that the newest report is a few minutes old (the crawler
ignores entries older than its backfill window on an outlet's first poll).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

FeedKind = Literal["rss", "atom", "json"]

DEMO_EPOCH = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DemoOutlet:
    """A fictional outlet: `name` is its config name, `path` its URL prefix on the demo site."""

    name: str
    title: str
    feed_kind: FeedKind
    path: str


@dataclass(frozen=True)
class DemoArticle:
    """One report; `outlet` is the `DemoOutlet.name` that carries it."""

    outlet: str
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    summary: str

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def _at(hours: float) -> datetime:
    """`DEMO_EPOCH` plus `hours` (the demo's clock before `DemoSite` rebases it)."""
    return DEMO_EPOCH + timedelta(hours=hours)


FRONTIER = DemoOutlet("frontier-post-wire", "Frontier Post Wire", "rss", "frontier-post")
INDUS = DemoOutlet("indus-daily", "Indus Daily", "atom", "indus-daily")
GULF = DemoOutlet("gulf-chronicle", "Gulf Chronicle", "json", "gulf-chronicle")
GLOBAL = DemoOutlet("global-desk", "Global Desk", "rss", "global-desk")
MAKRAN = DemoOutlet("makran-herald", "Makran Herald", "atom", "makran-herald")
TIGRIS = DemoOutlet("tigris-monitor", "Tigris Monitor", "json", "tigris-monitor")

DEMO_OUTLETS: tuple[DemoOutlet, ...] = (FRONTIER, INDUS, GULF, GLOBAL, MAKRAN, TIGRIS)

# ---- the seed case: coordinated assaults across Balochistan, then an internet cut ----------

_SEED_WIRE = (
    "QUETTA — Militants of the banned Balochistan Liberation Army launched near-simultaneous "
    "assaults on security posts and government buildings in at least ten towns across "
    "Balochistan on Sunday evening, officials said, in one of the most widely coordinated "
    "offensives the province has seen.",
    "Gunmen and suicide bombers struck in Quetta, Gwadar, Pasni, Mastung, Nushki, Turbat, "
    "Panjgur and Kalat within roughly an hour of each other, according to two senior police "
    "officers who spoke on condition of anonymity because they were not authorised to brief "
    "the media.",
    "In Mastung and Nushki attackers rammed explosives-laden vehicles into the gates of "
    "paramilitary Frontier Corps camps before fighters tried to storm the compounds. In "
    "Gwadar, a group of gunmen opened fire on the district administration complex near the "
    "port.",
    "At least 23 people, including 11 security personnel, were killed, a provincial "
    'government spokesman said, adding that 31 militants had been "neutralised" in '
    "clearance operations that continued into the night.",
    "The BLA claimed responsibility in a statement sent to journalists, describing the "
    "attacks as a single coordinated operation against the state.",
    "Hours after the attacks the provincial home department ordered mobile internet services "
    'suspended in Quetta, Kech, Gwadar, Panjgur and several other districts "until further '
    'notice", citing security concerns. Residents of Turbat said mobile data stopped working '
    "shortly before midnight.",
    'The prime minister\'s office condemned what it called "cowardly attacks" and said the '
    "security forces had been given a free hand to pursue those responsible.",
)

# A syndicated copy: the same wire story with a new headline, a dateline and one trim.
_SEED_SYNDICATED = (
    "QUETTA (Frontier Post Wire) — Militants of the banned Balochistan Liberation Army "
    "launched near-simultaneous assaults on security posts and government buildings in at "
    "least ten towns across Balochistan on Sunday evening, officials said, in one of the most "
    "widely coordinated offensives the province has seen.",
    _SEED_WIRE[1],
    _SEED_WIRE[2],
    _SEED_WIRE[3],
    _SEED_WIRE[4],
    "Hours after the attacks the provincial home department ordered mobile internet services "
    'suspended in Quetta, Kech, Gwadar, Panjgur and several other districts "until further '
    'notice", citing security concerns.',
    _SEED_WIRE[6],
)

_SEED_GULF = (
    "Separatist fighters mounted coordinated attacks on at least ten cities and towns in "
    "Pakistan's south-western province of Balochistan late on Sunday, killing more than 20 "
    "people and prompting authorities to shut down mobile internet across much of the "
    "region.",
    "The assaults began at around 7pm local time in the provincial capital Quetta, where "
    "gunmen attacked a police station and a checkpoint on the city's eastern bypass, and "
    "spread within the hour to the coastal towns of Gwadar and Pasni and to Turbat and "
    "Panjgur in the Makran division.",
    '"It was clearly planned to hit everywhere at once, so that reinforcements could not be '
    'moved from one town to another," a retired brigadier told the Gulf Chronicle by phone '
    "from Karachi.",
    "The Balochistan Liberation Army, which Pakistan and the United States designate as a "
    "terrorist organisation, said its fighters had carried out the attacks. The group has "
    "previously targeted Chinese-funded projects linked to the port at Gwadar.",
    "Mobile data networks went dark across Quetta and the Makran coast shortly afterwards. "
    "A spokesman for the Pakistan Telecommunication Authority confirmed that services had "
    "been suspended on the instructions of the interior ministry and said they would be "
    "restored once the situation was under control.",
    "Families of Gulf workers from Balochistan said they had been unable to reach relatives "
    "since the evening. Landline and fixed broadband connections were reported to be working "
    "in parts of Quetta.",
)

_SEED_GLOBAL = (
    "ISLAMABAD — Pakistan's security forces were battling insurgents in more than half a "
    "dozen places across restive Balochistan on Monday after a night of coordinated "
    "attacks that officials described as an attempt to overwhelm the state's presence in "
    "the province.",
    "Fighters from the Balochistan Liberation Army, an ethnic separatist group, hit army and "
    "police targets almost simultaneously in towns stretching from Quetta in the north to "
    "the Arabian Sea ports of Gwadar and Pasni, and east to Kalat and Mastung.",
    "The interior minister told a news conference in Islamabad that the militants had "
    'attacked "in ten cities at the same time" and that more than 20 people had been '
    "killed, among them soldiers, police officers and civilians caught in crossfire at a "
    "bus stand in Nushki.",
    "Authorities suspended mobile internet in much of the province overnight, a step Pakistan "
    "has taken repeatedly during security operations. Digital rights groups said the blackout "
    "left millions without access to information at a moment of danger.",
    "Balochistan, Pakistan's largest and poorest province, has for two decades been the "
    "scene of an insurgency by groups demanding a greater share of its gas and mineral "
    "wealth, or outright independence.",
    "Analysts said the scale of the attacks marked a shift from the hit-and-run ambushes of "
    "past years towards synchronised operations across the province.",
)

_SEED_FOLLOW_UP = (
    "QUETTA — The death toll from Sunday's coordinated militant attacks across Balochistan "
    "rose to 39 on Monday as rescue workers recovered bodies from a burned-out lorry stand "
    "in Mastung and two wounded policemen died in hospital in Quetta, officials said.",
    "Mobile internet remained suspended in Quetta, Gwadar, Kech, Panjgur and Mastung for a "
    "second day. The provincial home department said the suspension would be reviewed "
    '"in light of the security situation" but gave no date for restoring services.',
    "Shopkeepers in Quetta's Jinnah Road market said digital payments had stopped working "
    "and students at the University of Balochistan said they could not sit online tests.",
    "Security officials said clearance operations had ended in Gwadar, Pasni and Kalat but "
    "that troops were still searching the hills around Nushki and Turbat for fighters who "
    "had fled after the attacks on Sunday evening.",
    "The Balochistan Liberation Army, which claimed the ten-city assault, released a video "
    "purporting to show fighters preparing for the operation.",
)

# ---- another internet shutdown, elsewhere ----------------------------------------------------

_IRAQ_GLOBAL = (
    "BAGHDAD — Iraq cut internet access nationwide for two hours on Tuesday morning as "
    "hundreds of thousands of pupils sat the first paper of the ministerial secondary "
    "school exams, the communications ministry said.",
    "The ministry said in a statement that both mobile data and fixed-line services would be "
    "suspended between 6am and 8am on every exam day until the end of the month to stop "
    "questions leaking onto messaging apps.",
    "The semi-autonomous Kurdistan region, which holds its own exams, announced a separate "
    "schedule of daily shutdowns starting next week.",
    "Businesses and digital rights groups have criticised the practice, which Iraq has "
    "repeated each exam season for several years, saying it costs the economy millions of "
    "dollars a day and punishes millions of users for the actions of a few cheats.",
)

_IRAQ_TIGRIS = (
    "Internet users across Iraq woke to dead connections on Tuesday as the government "
    "switched off the network for the start of the national exam season.",
    "From 6am, mobile data on all three major operators and most home broadband lines "
    "stopped working, according to users in Baghdad, Basra and Mosul and to network "
    "monitors, which recorded connectivity falling to a fraction of normal levels.",
    "The ministry of communications said the shutdowns, ordered at the request of the "
    "education ministry, would be repeated on each exam morning to prevent cheating.",
    '"Every year they promise this is the last time," said a software developer in '
    'Baghdad who runs a delivery app. "Every year we lose the busiest hours of the day."',
    "Access returned shortly after 8am.",
)

# ---- hard negatives ------------------------------------------------------------------------

_US_SHUTDOWN = (
    "WASHINGTON — Large parts of the US federal government shut down at midnight after "
    "Congress failed to pass a spending bill, sending hundreds of thousands of federal "
    "employees home without pay.",
    "National parks closed their visitor centres, and agencies from the Environmental "
    "Protection Agency to the Small Business Administration put most of their staff on "
    "furlough. Air traffic controllers and border agents are required to keep working.",
    "House and Senate leaders blamed each other for the impasse over a stopgap measure "
    "that would have kept agencies funded for six more weeks.",
    "Economists said a short shutdown would do little lasting damage but warned that a "
    "long one could shave a fraction of a point off quarterly growth and delay key "
    "economic data releases.",
    "It is the first lapse in federal funding since the 35-day shutdown that ended in "
    "January 2019, the longest in US history.",
)

_RANSOMWARE = (
    "DUBAI — Three regional banks said on Wednesday that a coordinated cyber attack had "
    "encrypted servers in their card-processing systems, leaving customers unable to use "
    "cards or mobile banking for most of the day.",
    "The banks, which use the same outsourced payment processor, said the attack began in "
    "the early hours and that ransomware had been found on servers at the processor's data "
    "centre.",
    "A ransom note left on the affected machines demanded payment in cryptocurrency, a "
    "person familiar with the investigation said. The banks said no customer funds had "
    "been taken.",
    "The central bank said it was working with the national cybersecurity council and that "
    "backup systems had restored ATM withdrawals by the evening.",
    "Security researchers said the attack bore the hallmarks of a criminal ransomware "
    "group that has hit financial firms in the Gulf and Europe this year.",
)

_CRICKET_QUETTA = (
    "QUETTA — Quetta Gladiators' pace attack ripped through Peshawar's top order at Bugti "
    "Stadium on Saturday as the home side won by 46 runs in front of a capacity crowd.",
    "Left-armer Hasnain Baloch took four wickets for 19 in his first three overs, "
    "leaving the visitors at 31 for five in the powerplay.",
    "It was the first top-flight cricket match in Quetta in more than a decade, and "
    "supporters queued from dawn for tickets. Organisers said 18,000 people attended.",
    '"The crowd was the twelfth man," Gladiators captain Sarfaraz Kakar said. "Our '
    'bowlers attacked from the first ball and the fans carried us."',
    "The provincial sports minister said the success of the fixture would strengthen the "
    "case for bringing international matches to Balochistan.",
)

_ZAHEDAN = (
    "TEHRAN — Gunmen attacked two police stations and a Revolutionary Guards post almost "
    "simultaneously in Zahedan, capital of Iran's south-eastern Sistan and Baluchestan "
    "province, on Thursday night, state media reported.",
    "At least nine members of the security forces were killed, the IRNA news agency said, "
    "quoting the provincial governor's office. Jaish al-Adl, a Sunni militant group, "
    "claimed the attacks.",
    "Sistan and Baluchestan, which borders Pakistan and Afghanistan, is one of Iran's "
    "poorest regions and has long seen clashes between security forces and Baluch "
    "militants.",
    "Iran's interior minister said the attackers had come from across the border and "
    "called on neighbouring countries to do more to secure their frontiers.",
    "Residents said roads into the city centre were closed on Friday morning and security "
    "forces had set up additional checkpoints.",
)

_GWADAR_PORT = (
    "KARACHI — Cargo volumes through Gwadar port rose by a third in the last quarter, the "
    "port authority said on Monday, as new shipping lines began calling at the deep-sea "
    "harbour on the Balochistan coast.",
    "The port handled 410,000 tonnes of bulk cargo in the three months to September, "
    "mostly urea fertiliser and wheat imports for government agencies, according to the "
    "Gwadar Port Authority.",
    "Officials said a weekly container service linking Gwadar with Jebel Ali and Salalah "
    "would start next month, and that tax exemptions in the port's free zone had attracted "
    "investment pledges from 14 companies.",
    "Shipping analysts cautioned that Gwadar still handles a tiny fraction of the traffic "
    "of Karachi and Port Qasim, and that poor road links to the rest of the country limit "
    "its appeal to exporters.",
    "The port, operated by a Chinese state company, is the centrepiece of the "
    "China-Pakistan Economic Corridor.",
)

_GRID_FAILURE = (
    "KARACHI — A fault on a high-voltage transmission line plunged large parts of southern "
    "Pakistan into darkness on Thursday, leaving millions without electricity for up to "
    "fourteen hours.",
    "The power ministry said a frequency variation at a grid station in Sindh tripped "
    "generating units one after another, and that engineers had restored supply to Karachi, "
    "Hyderabad and Sukkur by late evening.",
    "Hospitals switched to generators, and water pumping stations stopped working in parts "
    "of Karachi. Mobile phone signals weakened in some neighbourhoods as backup batteries "
    "at cell towers ran down.",
    "The minister ordered an inquiry and said the failure was technical, ruling out sabotage.",
    "It was the third major breakdown of the national grid in four years.",
)

_CABLE_FAULT = (
    "LAHORE — Internet users across Pakistan faced slow speeds and patchy connections on "
    "Wednesday after a fault on one of the submarine cables that carry the country's "
    "international traffic, the telecom regulator said.",
    "The Pakistan Telecommunication Authority said the cable had been damaged off the coast "
    "of Egypt and that operators had shifted traffic to other routes, though capacity "
    "remained reduced at peak hours.",
    "Users reported trouble loading video and using cloud-based office software, while "
    "freelancers said client calls kept dropping.",
    "The regulator said repairs by a cable ship could take up to three weeks and stressed "
    "that services had not been suspended or restricted.",
)

_CULTURE_DAY = (
    "TURBAT — Thousands of people in embroidered dresses and turbans filled the streets of "
    "Turbat and Gwadar on Saturday to mark Baloch Culture Day with music, dance and poetry.",
    "Groups of young men performed the chaap, a circle dance, to the beat of the dhol, while "
    "stalls sold hand-stitched Balochi embroidery and dates from the Kech valley.",
    "At the University of Turbat, students staged readings of classical Balochi poetry and "
    "a panel discussed efforts to teach the language in primary schools.",
    '"This day belongs to everyone who loves Balochistan," said a retired schoolteacher '
    "who had travelled from Panjgur with his grandchildren.",
    "Celebrations were also held in Quetta, Karachi and in the Gulf, where many Baloch "
    "families live and work.",
)

_HEAT_POWER_CUTS = (
    "BASRA — Protesters blocked roads in Basra on Sunday as temperatures passed 50C and "
    "electricity cuts stretched to 14 hours a day across southern Iraq.",
    "The electricity ministry blamed reduced gas imports and a fault at a power station "
    "north of the city for the shortfall.",
    "Residents rely on neighbourhood generators during the cuts, but owners have raised "
    "prices as fuel costs climb.",
    "The governor announced that government offices would close early for the rest of the week.",
)


DEMO_ARTICLES: tuple[DemoArticle, ...] = (
    DemoArticle(
        outlet=FRONTIER.name,
        slug="bla-coordinated-attacks-ten-balochistan-towns",
        title="BLA militants strike ten Balochistan towns in coordinated assaults; "
        "mobile internet suspended",
        paragraphs=_SEED_WIRE,
        published=_at(10.2),
        summary="Gunmen and suicide bombers hit security posts in Quetta, Gwadar, Pasni, "
        "Mastung, Nushki, Turbat, Panjgur and Kalat; at least 23 dead.",
    ),
    DemoArticle(
        outlet=INDUS.name,
        slug="militants-attack-ten-towns-balochistan",
        title="Militants attack security posts in ten towns across Balochistan",
        paragraphs=_SEED_SYNDICATED,
        published=_at(10.5),
        summary="At least 23 killed as the banned BLA launches near-simultaneous assaults; "
        "mobile internet suspended in several districts.",
    ),
    DemoArticle(
        outlet=GULF.name,
        slug="separatists-coordinated-attacks-balochistan-internet-shut",
        title="Separatists hit ten cities in Pakistan's Balochistan; internet shut down",
        paragraphs=_SEED_GULF,
        published=_at(11.0),
        summary="Coordinated attacks from Quetta to the Makran coast kill more than 20; "
        "mobile data networks go dark.",
    ),
    DemoArticle(
        outlet=GLOBAL.name,
        slug="pakistan-balochistan-insurgents-night-of-attacks",
        title="Pakistan battles insurgents after night of synchronised attacks in Balochistan",
        paragraphs=_SEED_GLOBAL,
        published=_at(12.5),
        summary="Fighters hit army and police targets in ten cities at once; authorities "
        "suspend mobile internet across much of the province.",
    ),
    DemoArticle(
        outlet=FRONTIER.name,
        slug="balochistan-attacks-death-toll-rises-internet-still-suspended",
        title="Balochistan attacks death toll rises to 39; mobile internet still suspended",
        paragraphs=_SEED_FOLLOW_UP,
        published=_at(20.5),
        summary="Bodies recovered in Mastung; mobile internet remains off in Quetta, Gwadar, "
        "Kech and Panjgur for a second day.",
    ),
    DemoArticle(
        outlet=GLOBAL.name,
        slug="iraq-cuts-internet-for-school-exams",
        title="Iraq cuts internet nationwide for school exams",
        paragraphs=_IRAQ_GLOBAL,
        published=_at(18.0),
        summary="Mobile data and fixed-line internet suspended for two hours on each exam "
        "morning to stop cheating.",
    ),
    DemoArticle(
        outlet=TIGRIS.name,
        slug="iraqis-wake-to-exam-day-internet-blackout",
        title="Iraqis wake to exam-day internet blackout",
        paragraphs=_IRAQ_TIGRIS,
        published=_at(18.4),
        summary="Government switches off mobile data and broadband from 6am as the national "
        "exam season starts.",
    ),
    DemoArticle(
        outlet=GLOBAL.name,
        slug="us-government-shutdown-begins",
        title="US government shuts down after Congress misses funding deadline",
        paragraphs=_US_SHUTDOWN,
        published=_at(8.0),
        summary="Hundreds of thousands of federal workers furloughed as the spending impasse "
        "continues.",
    ),
    DemoArticle(
        outlet=GULF.name,
        slug="ransomware-attack-bank-card-servers",
        title="Coordinated cyber attack on bank servers halts card payments",
        paragraphs=_RANSOMWARE,
        published=_at(7.5),
        summary="Ransomware encrypts card-processing servers shared by three regional banks.",
    ),
    DemoArticle(
        outlet=FRONTIER.name,
        slug="gladiators-pace-attack-routs-peshawar-in-quetta",
        title="Gladiators' pace attack routs Peshawar in Quetta homecoming",
        paragraphs=_CRICKET_QUETTA,
        published=_at(6.0),
        summary="Hasnain Baloch takes four wickets as top-flight cricket returns to Quetta.",
    ),
    DemoArticle(
        outlet=GLOBAL.name,
        slug="gunmen-attack-police-stations-zahedan-iran",
        title="Gunmen attack police stations in Iran's Zahedan, nine killed",
        paragraphs=_ZAHEDAN,
        published=_at(9.0),
        summary="Simultaneous attacks in the capital of Sistan and Baluchestan province; "
        "Jaish al-Adl claims responsibility.",
    ),
    DemoArticle(
        outlet=INDUS.name,
        slug="gwadar-port-cargo-volumes-rise",
        title="Gwadar port cargo volumes rise by a third as new shipping lines call",
        paragraphs=_GWADAR_PORT,
        published=_at(7.0),
        summary="Bulk cargo up 33% in the quarter; weekly container service to Jebel Ali planned.",
    ),
    DemoArticle(
        outlet=GULF.name,
        slug="grid-failure-southern-pakistan-blackout",
        title="Grid failure plunges southern Pakistan into darkness",
        paragraphs=_GRID_FAILURE,
        published=_at(14.0),
        summary="Millions without electricity for up to fourteen hours after a transmission "
        "fault in Sindh.",
    ),
    DemoArticle(
        outlet=INDUS.name,
        slug="submarine-cable-fault-slows-internet",
        title="Submarine cable fault slows internet across Pakistan",
        paragraphs=_CABLE_FAULT,
        published=_at(16.0),
        summary="Regulator says traffic rerouted and services not suspended; repairs may "
        "take three weeks.",
    ),
    DemoArticle(
        outlet=MAKRAN.name,
        slug="baloch-culture-day-turbat-gwadar",
        title="Turbat and Gwadar celebrate Baloch Culture Day",
        paragraphs=_CULTURE_DAY,
        published=_at(5.0),
        summary="Music, chaap dancing and poetry fill the streets of the Makran coast.",
    ),
    DemoArticle(
        outlet=TIGRIS.name,
        slug="basra-protests-power-cuts-heat",
        title="Basra protests as power cuts stretch to 14 hours in 50C heat",
        paragraphs=_HEAT_POWER_CUTS,
        published=_at(13.0),
        summary="Electricity ministry blames gas shortfall and a power station fault.",
    ),
)
"""The demo set, in no particular order; the site serves each outlet's entries newest first."""

SEED_SLUGS: frozenset[str] = frozenset(
    {
        "bla-coordinated-attacks-ten-balochistan-towns",
        "militants-attack-ten-towns-balochistan",
        "separatists-coordinated-attacks-balochistan-internet-shut",
        "pakistan-balochistan-insurgents-night-of-attacks",
    }
)
"""The four first-day reports of the seed case (the follow-up is not among them)."""
