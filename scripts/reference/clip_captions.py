"""Deterministic test captions for the CLIP tokenizer fixtures (used by clip_fixtures.py).

`captions()` returns the same list on every run: sound descriptions in the style of AudioCaps,
and the same descriptions bent in every way a user's prompt can be: punctuation, numbers,
apostrophes, accents, Greek, Turkish, CJK, emoji, control characters, odd whitespace, upper case,
literal special tokens, and prompts far longer than 77 tokens. Each caption carries the name of
the family that produced it, so a mismatch report says what kind of input failed.
"""
import random

SEED = 20240612

SOURCES = [
    "a dog", "dogs", "a cat", "a man", "a woman", "a child", "children", "a baby", "birds", "a bird",
    "a rooster", "a car", "cars", "a truck", "a train", "a helicopter", "an airplane", "a motorcycle",
    "an engine", "a crowd", "people", "a river", "water", "rain", "wind", "thunder", "a bell", "a clock",
    "a phone", "an alarm", "a siren", "a piano", "a guitar", "drums", "a violin", "a saxophone", "a choir",
    "frogs", "crickets", "insects", "a horse", "cows", "sheep", "a goat", "a duck", "geese", "a pig",
    "a lion", "an owl", "a crow", "waves", "a fire", "a kettle", "a door", "footsteps", "a typewriter",
    "a keyboard", "a vacuum cleaner", "a blender", "a drill", "a saw", "a hammer", "a dishwasher",
    "a faucet", "a fountain", "a waterfall", "a stream", "a boat", "a ship horn", "a bus", "a tractor",
    "a lawn mower", "fireworks", "a gunshot", "an explosion", "a whistle", "a trumpet", "a flute",
    "an organ", "a harp", "a cello", "a synthesizer", "a radio", "a television", "a microwave", "a fan",
    "an air conditioner", "a printer", "a zipper", "paper", "glass", "coins", "keys", "a basketball",
    "a skateboard", "a bicycle bell", "a cuckoo clock",
]
ACTIONS = [
    "barks", "barking", "meows", "speaks", "is speaking", "talks", "laughs", "laughing", "cries", "crying",
    "sings", "singing", "chirp", "chirping", "crows", "passes by", "honks", "idles", "revs", "accelerates",
    "rumbles", "hums", "buzzes", "rings", "ringing", "ticks", "beeps", "wails", "plays", "playing", "flows",
    "flowing", "falls", "pours", "blows", "howls", "crackles", "whistles", "boils", "creaks", "slams",
    "squeaks", "clatters", "splashes", "roars", "growls", "purrs", "bleats", "moos", "quacks", "hoots",
    "caws", "snores", "coughs", "sneezes", "claps", "cheers", "whispers", "shouts", "screams", "knocks",
    "taps", "drips", "sizzles", "clicks", "rustles", "scrapes", "grinds", "vibrates", "echoes",
]
PLACES = [
    "in the distance", "nearby", "outside", "indoors", "in a large room", "in a small room",
    "on a busy street", "in a park", "in the forest", "by the sea", "on a beach", "in a church",
    "in a kitchen", "in a garage", "in a stadium", "in a subway station", "at an airport", "on a farm",
    "in the rain", "at night", "in the morning", "underwater", "in a cave", "through a wall",
    "over a loudspeaker", "on the radio", "on a phone call", "in a tunnel", "in a hall",
]
MODIFIERS = [
    "loudly", "softly", "quietly", "repeatedly", "intermittently", "continuously", "rhythmically",
    "briefly", "twice", "several times", "slowly", "quickly", "faintly", "sharply", "steadily",
    "in the background", "in the foreground", "while wind blows", "with some static", "with a low hum",
]
CONNECTORS = [" and ", " while ", ", then ", " followed by ", " as ", " before ", " after ", "; ", " with "]
ADJECTIVES = [
    "loud", "soft", "muffled", "distant", "high pitched", "low pitched", "deep", "sharp", "metallic",
    "wooden", "electronic", "mechanical", "heavy", "rapid", "steady", "echoing", "reverberant", "crisp",
]
PUNCTUATION = [
    ".", "!", "?", "...", "--", "-", ",", ";", ":", "?!", "!!!", ",.", "..", "/", "&", "+", "#", "@",
    "*", "~", "|", "<", ">", "=", "^", "`", "$", "%", "_", "\\", "(", ")", "[", "]", "{", "}", "\"",
    "'", "\u2014", "\u2013", "\u2026", "\u00bf", "\u00a1", "\u00ab", "\u00bb", "\u201c", "\u201d",
    "\u2018", "\u2019", "\u00b7", "\u2022", "\u3002", "\u3001", "\uff01", ":)", ";-)", "<3", "->",
]
NUMBERS = [
    "3", "10 seconds", "1990s", "100%", "7.5 kHz", "2:30", "#1", "1st", "2nd", "24/7", "3-4 times",
    "12,000", "0.25", "-40 dB", "440Hz", "v2", "mp3", "4x4", "1/2", "99 bottles", "2024", "007",
    "\u00bd", "\u00b2", "\u216b", "\u2460", "\u0663", "\u0969", "\uff15", "\u2075", "3\u00bd",
]
APOSTROPHES = [
    "dog's", "dogs'", "can't", "won't", "it's", "they're", "we've", "I'm", "you'll", "she'd", "'quoted'",
    "rock 'n' roll", "o'clock", "dog\u2019s", "\u2018single\u2019", "\u201cdouble\u201d", "'s", "''s", "'S",
    "DON'T", "Y'ALL'D'VE", "it''s", "l'eau", "'tis", "rock'n'roll", "the 90's", "'ve'll're",
]
UNICODE_WORDS = [
    "caf\u00e9", "na\u00efve", "Zo\u00eb", "\u00c5ngstr\u00f6m", "cr\u00e8me br\u00fbl\u00e9e",
    "S\u00e3o Paulo", "jalape\u00f1o", "Dvo\u0159\u00e1k", "fa\u00e7ade", "M\u00fcller",
    "sm\u00f8rrebr\u00f8d", "\u0141\u00f3d\u017a", "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac",
    "\u03a3\u039f\u03a6\u039f\u03a3 \u039f\u0394\u039f\u03a3", "\u1f48\u03b4\u03c5\u03c3\u03c3\u03b5\u03cd\u03c2",
    "\u03a3", "\u0130stanbul", "stra\u00dfe", "\u1e9e", "\ufb01sh", "\uff26\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48",
    "\u6771\u4eac\u306e\u96e8\u306e\u97f3", "\u4e0b\u96e8\u7684\u58f0\u97f3", "\ud55c\uad6d\uc5b4 \uc74c\uc131",
    "\u30ab\u30bf\u30ab\u30ca", "\u3072\u3089\u304c\u306a", "\u0645\u0631\u062d\u0628\u0627",
    "\u0928\u092e\u0938\u094d\u0924\u0947", "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22",
    "\u0440\u0443\u0441\u0441\u043a\u0438\u0439 \u0442\u0435\u043a\u0441\u0442", "\U0001f3b5", "\U0001f3b6\U0001f3b6",
    "\U0001f514", "\U0001f436", "\U0001f431", "\U0001f327\ufe0f", "\U0001f44d\U0001f3fd",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f1ef\U0001f1f5", "1\ufe0f\u20e3", "\u2764\ufe0f",
    "\u00a9", "\u00ae", "\u2122", "\u20ac5", "\u00a3", "\u00a5", "20\u00b0C", "\u00b1", "\u00d7", "\u00f7",
    "\u2192", "\u266a", "\u266b", "\u221e", "\u2248", "e\u0301", "n\u0303o", "\u1100\u1161", "\u00c9COLE",
    "\u24b6\u24b7", "\u2160\u2161", "\u0110\u00f0", "\u00de\u00fe", "\u01c5", "\u1e9b\u0323",
    "\u0587", "\u0149", "\u1f88", "\u212a", "\u2126", "\u00b5s", "\u0131", "\u017f", "I\u0307",
    "\u05e9\u05dc\u05d5\u05dd", "\u10d0\u10d1", "\U00010400", "\U0001d400\U0001d401", "\U00020000",
    "\u4e00\u4e8c\u4e09", "\u3400", "\uf900", "\u00a0", "\u0e01\u0e34\u0e19", "\u0dc1\u0dca\u200d\u0dbb\u0dd3",
]
CONTROL_AND_SPACE = [
    "\x00", "\x07", "\x1b[0m", "\x7f", "\u200b", "\u200d", "\ufeff", "\ufffd", "\u00ad", "\u2028",
    "\u2029", "\x0b", "\x0c", "\x1c", "\x85", "\t", "\n", "\r\n", "  ", "   ", "\u00a0", "\u2003",
    "\u3000", "\u202f", "\u1680", "\u180e", "\U000e0041", "\ue000", "\u0378",
]
SPECIAL_LITERALS = ["<|startoftext|>", "<|endoftext|>", "<|ENDOFTEXT|>", "<|endoftext|", "<|startof text|>"]


def base_caption(rng: random.Random) -> str:
    """One plain sound description, from one of five templates."""
    source, action = rng.choice(SOURCES), rng.choice(ACTIONS)
    template = rng.randrange(5)
    if template == 0:
        return f"{source} {action} {rng.choice(PLACES)}"
    if template == 1:
        return (f"{source} {action} {rng.choice(MODIFIERS)}{rng.choice(CONNECTORS)}"
                f"{rng.choice(SOURCES)} {rng.choice(ACTIONS)}")
    if template == 2:
        return f"a {rng.choice(ADJECTIVES)} sound of {source} {action}"
    if template == 3:
        return f"{source.capitalize()} {action} {rng.choice(MODIFIERS)} {rng.choice(PLACES)}"
    return f"the sound of {source} {action}{rng.choice(CONNECTORS)}{rng.choice(SOURCES)} {rng.choice(ACTIONS)}"


def insert_words(rng: random.Random, text: str, words: list[str], count: int, glue: str = " ") -> str:
    """`text` with `count` items of `words` put between its words (or glued to them when glue is "")."""
    parts = text.split(" ")
    for _ in range(count):
        position = rng.randrange(len(parts) + 1)
        item = rng.choice(words)
        if glue == "" and parts and position < len(parts):
            parts[position] = item + parts[position] if rng.random() < 0.5 else parts[position] + item
        else:
            parts.insert(position, item)
    return " ".join(parts)


def case_variant(rng: random.Random, text: str) -> str:
    style = rng.randrange(4)
    if style == 0:
        return text.upper()
    if style == 1:
        return text.title()
    if style == 2:
        return "".join(c.upper() if rng.random() < 0.5 else c for c in text)
    return text.swapcase()


def whitespace_variant(rng: random.Random, text: str) -> str:
    spaces = [" ", "  ", "\t", "\n", "\r\n", " \t ", "\u00a0", "\u2003", "\u3000", "\n\n"]
    words = text.split(" ")
    joined = words[0]
    for word in words[1:]:
        joined += (rng.choice(spaces) if rng.random() < 0.4 else " ") + word
    return rng.choice(["", " ", "  ", "\t", "\n"]) + joined + rng.choice(["", " ", "   ", "\n", "\t"])


def long_caption(rng: random.Random) -> str:
    """Several clauses joined: usually 40 to 150 tokens."""
    clauses = [base_caption(rng) for _ in range(rng.randrange(3, 12))]
    return ", ".join(clauses) + rng.choice(["", ".", "!"])


def boundary_captions() -> list[tuple[str, str]]:
    """Prompts whose BPE length is exactly 70 to 80 tokens ("dog" is one token), around the limit of 75."""
    return [("boundary", " ".join(["dog"] * n)) for n in range(70, 81)] + \
           [("boundary", "a " * n + "cat.") for n in (72, 73, 74, 75)]


def fixed_captions() -> list[tuple[str, str]]:
    """Hand-picked cases that a generator may miss."""
    texts = [
        "", " ", "   ", "\t\n", ".", "!!!", "a", "A", "a photo of a cat", "A dog barks in the distance.",
        "<|startoftext|>", "<|endoftext|>", "a<|endoftext|>b", "dog <|startoftext|> cat", "<|ENDOFTEXT|>",
        "dog's bark isn't loud", "hello,.world", "caf\u00e9 cr\u00e8me", "\u0130stanbul \u03a3\u039f\u03a6\u039f\u03a3",
        "\U0001f3b5\U0001f3b6 music", "na\u00efve \ud55c\uad6d\uc5b4 \u65e5\u672c\u8a9e", "x\x00y\ufffdz\u200b",
        "a  b", " a b", "a b ", "a\tb c", "#1 hit", "##", "# # #", "a-b-c", "1234567890", "3.14159",
        "\u03a3\u03a3 \u03b1\u03a3 \u03b1\u03a3\u03b1 \u03b1\u03a3. \u03b1'\u03a3", "ABC'S", "rock'n'roll!",
        "\U0001f44d\U0001f3fd\U0001f44d", "\u00e9\u00e9\u00e9", "\u0065\u0301\u0301", "\u1e9b\u0323", "\ufb03",
        "\u00df\u00df", "\u0049\u0307", "\u2028", "a\u2028b\u2029c", "tab\there", "new\nline", "cr\rlf",
    ]
    return [("fixed", text) for text in texts]


FAMILIES = [
    ("plain", 700, lambda rng: base_caption(rng)),
    ("punctuation", 220, lambda rng: insert_words(rng, base_caption(rng), PUNCTUATION, rng.randrange(1, 4),
                                                   glue=rng.choice(["", " "]))),
    ("numbers", 150, lambda rng: insert_words(rng, base_caption(rng), NUMBERS, rng.randrange(1, 3))),
    ("apostrophes", 150, lambda rng: insert_words(rng, base_caption(rng), APOSTROPHES, rng.randrange(1, 3))),
    ("unicode", 300, lambda rng: insert_words(rng, base_caption(rng), UNICODE_WORDS, rng.randrange(1, 4),
                                               glue=rng.choice(["", " ", " "]))),
    ("control", 150, lambda rng: insert_words(rng, base_caption(rng), CONTROL_AND_SPACE, rng.randrange(1, 4),
                                               glue=rng.choice(["", " "]))),
    ("whitespace", 150, lambda rng: whitespace_variant(rng, base_caption(rng))),
    ("case", 150, lambda rng: case_variant(rng, base_caption(rng))),
    ("special", 30, lambda rng: insert_words(rng, base_caption(rng), SPECIAL_LITERALS, 1, glue=rng.choice(["", " "]))),
    ("long", 120, long_caption),
]


def captions() -> list[dict]:
    """Every caption once, in a fixed order: [{"family", "text"}, …] (about 2,100)."""
    rng = random.Random(SEED)
    seen, result = set(), []
    for family, text in fixed_captions() + boundary_captions():
        if text not in seen:
            seen.add(text)
            result.append({"family": family, "text": text})
    for family, count, make in FAMILIES:
        made = 0
        while made < count:
            text = make(rng)
            if text not in seen:
                seen.add(text)
                result.append({"family": family, "text": text})
                made += 1
    return result
