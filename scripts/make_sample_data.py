"""Make the bundled sample dataset: `emosum_tui/builtin/data/{train,validation}/Emotion_Summary.jsonl`.

How: the user's real files (16,485 / 4,122 rows) are built from English Empathetic Dialogues:
a two-sentence case description (~136 chars), about four "Client:/Counselor:" turns
(~417 chars) and a long, largely templated "experience_and_reflection" (~1,600 chars). We
cannot ship their rows, so this script writes rows of the same schema and length spread from
hand-written situations, emotions and reflection templates, with about one row in ten in
Chinese so the console and tokenizer meet CJK text. It is deterministic (fixed seed): running
it again writes the same bytes.

    python scripts/make_sample_data.py            # writes 400 train + 100 validation rows
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

EMOTIONS = [
    "anxious", "lonely", "proud", "disappointed", "grateful", "afraid", "angry", "ashamed",
    "hopeful", "jealous", "nostalgic", "guilty", "excited", "devastated", "content", "furious",
]
SITUATIONS = [
    "lost a job after eight years at the same company",
    "moved to a new city where they know nobody",
    "passed a difficult licensing exam on the third attempt",
    "had a falling-out with a sibling over the care of an ageing parent",
    "found out a close friend had been talking behind their back",
    "became a parent for the first time and sleeps very little",
    "failed to get into the graduate programme they had worked toward",
    "had their car broken into the night before an important interview",
    "reconnected with a childhood friend after twenty years",
    "was praised by their manager in front of the whole team",
    "cared for a dog that died suddenly of an illness nobody noticed",
    "is waiting for the results of a medical test",
    "broke up with a partner of five years",
    "was promoted over a colleague who had more seniority",
    "forgot an important promise to their child",
    "won a small local writing competition",
]
DETAILS = [
    "They describe trouble sleeping and replaying the events at night.",
    "They say they have not told anyone else about it yet.",
    "Friends have noticed they seem withdrawn.",
    "They feel the reaction is out of proportion and want to understand it.",
    "They keep checking their phone for messages that do not come.",
    "They mention that work has become hard to concentrate on.",
]
CLIENT_LINES = [
    "I keep thinking about it and I can't stop.",
    "Honestly I don't know why this hit me so hard, it feels silly to even talk about it.",
    "Everyone tells me to move on but it's not that simple for me.",
    "Part of me is relieved, but another part feels guilty for feeling relieved.",
    "I just wanted someone to notice how much effort I put in.",
    "Sometimes I wonder whether I made the wrong choice from the beginning.",
    "I tried to talk to my family about it but they changed the subject.",
    "At night it gets worse, everything seems heavier than during the day.",
]
COUNSELOR_LINES = [
    "It sounds like this has been weighing on you for a while. What feels hardest right now?",
    "That makes sense given what you've been through. Can you tell me more about that moment?",
    "I hear both relief and guilt in what you're saying, and both can be true at once.",
    "You put a lot of yourself into this. How did it feel when nobody acknowledged it?",
    "What would you say to a friend who told you the same story?",
    "It's understandable to feel that way. What has helped you, even a little, so far?",
]
REFLECTION_TEMPLATE = (
    "In this consultation, the client presented with feelings of being {emotion}, which arose after they {situation}. "
    "Through my work with this client, I came to understand that the emotional response was not only about the event itself, "
    "but about what the event meant to their sense of self and their relationships. {detail_sentence} "
    "Throughout the session, I focused on creating a safe and non-judgmental space where the client could express their "
    "feelings openly. I used reflective listening to validate their experience and to help them name the emotions that "
    "were difficult to articulate. When the client said that {quote}, I recognised an opportunity to explore the beliefs "
    "underlying their distress. Gently questioning these beliefs allowed the client to see the situation from a more "
    "balanced perspective. {middle} "
    "One of the key insights from this case is the importance of empathy and patience in the counselling relationship. "
    "Clients who feel {emotion} often need time before they can look at their situation with curiosity rather than "
    "self-criticism. "
    "Going forward, I would like to continue supporting the client in developing coping strategies, strengthening their "
    "social support network, and recognising their own resilience. {closing} "
    "Overall, this case reinforced my belief that meaningful change begins when a person feels truly heard, and that the "
    "counsellor's steady presence can help a client transform a painful experience into an opportunity for growth."
)
MIDDLES = [
    "We discussed how the client's expectations of themselves had shaped their reaction, and how those expectations were formed early in life.",
    "We explored the client's support network and identified two people they could reach out to during difficult evenings.",
    "We practised a short grounding exercise that the client could use when intrusive thoughts returned at night.",
    "We looked together at the difference between responsibility and blame, which seemed to ease some of the guilt.",
    "",
]
CLOSINGS = [
    "I will also pay attention to signs of low mood persisting, and consider a referral if needed.",
    "In future sessions, I hope to explore the family patterns that came up briefly today.",
    "",
]

ZH_SITUATIONS = ["在同一家公司工作八年后失业了", "搬到了一个没有熟人的新城市", "和多年的伴侣分手了", "在第三次尝试时通过了一场很难的考试", "等待一项医学检查的结果"]
ZH_EMOTIONS = ["焦虑", "孤独", "失望", "内疚", "自豪", "害怕"]
ZH_CLIENT = ["我一直在想这件事，停不下来。", "说实话，我不知道为什么这件事对我打击这么大。", "大家都叫我往前看，但对我来说没那么简单。", "晚上情况更糟，一切都显得更沉重。"]
ZH_COUNSELOR = ["听起来这件事已经困扰你一段时间了。现在最难的是什么？", "经历了这些，有这样的感受是可以理解的。能多说一些吗？", "如果一个朋友告诉你同样的经历，你会对他说什么？"]
ZH_REFLECTION = (
    "在这次咨询中，来访者在{situation}之后感到{emotion}。通过与来访者的工作，我认识到情绪反应不仅与事件本身有关，"
    "还与这件事对其自我认同和人际关系的意义有关。在整个会谈过程中，我努力营造一个安全、不评判的空间，让来访者能够坦然表达感受。"
    "我运用反映式倾听来确认他们的体验，并帮助他们说出那些难以表达的情绪。当来访者说“{quote}”时，我意识到这是探索其痛苦背后信念的机会。"
    "温和地质疑这些信念，使来访者能够从更平衡的角度看待处境。这个案例的一个重要启示是，共情和耐心在咨询关系中非常重要。"
    "感到{emotion}的来访者往往需要时间，才能以好奇而不是自我批评的态度看待自己的处境。我也反思了自己在会谈中的反应：有时我急于给出解决办法，"
    "我提醒自己，理解必须先于解决问题。今后，我希望继续支持来访者发展应对策略，加强社会支持网络，并认识到自身的韧性。"
    "总之，这个案例让我更加相信，当一个人真正感到被倾听时，有意义的改变才会开始；咨询师稳定的陪伴能够帮助来访者把痛苦的经历转化为成长的机会。"
)


def english_row(rng: random.Random, row_id: int) -> dict:
    emotion, situation = rng.choice(EMOTIONS), rng.choice(SITUATIONS)
    turns = []
    for _ in range(rng.choice([1, 2, 2, 2, 3])):
        turns.append("Client: " + " ".join(rng.sample(CLIENT_LINES, rng.choice([1, 2]))))
        turns.append("Counselor: " + rng.choice(COUNSELOR_LINES))
    client_quote = turns[0].removeprefix("Client: ").split(".")[0].lower()
    detail = rng.choice(DETAILS)
    reflection = REFLECTION_TEMPLATE.format(
        emotion=emotion,
        situation=situation,
        detail_sentence=detail,
        quote=client_quote,
        middle=rng.choice(MIDDLES),
        closing=rng.choice(CLOSINGS),
    )
    return {
        "id": row_id,
        "case_description": [f"Emotional Context: The client feels {emotion}.", f"Initial Situation: The client {situation}. {detail}"],
        "consultation_process": turns,
        "experience_and_reflection": " ".join(reflection.split()),
    }


def chinese_row(rng: random.Random, row_id: int) -> dict:
    emotion, situation = rng.choice(ZH_EMOTIONS), rng.choice(ZH_SITUATIONS)
    turns = []
    for _ in range(rng.choice([2, 3])):
        turns.append("Client: " + rng.choice(ZH_CLIENT))
        turns.append("Counselor: " + rng.choice(ZH_COUNSELOR))
    return {
        "id": row_id,
        "case_description": [f"Emotional Context: 来访者感到{emotion}。", f"Initial Situation: 来访者{situation}。"],
        "consultation_process": turns,
        "experience_and_reflection": ZH_REFLECTION.format(emotion=emotion, situation=situation, quote=turns[0].removeprefix("Client: ")),
    }


def make_rows(rng: random.Random, first_id: int, count: int) -> list[dict]:
    return [
        (chinese_row if rng.random() < 0.1 else english_row)(rng, row_id)
        for row_id in range(first_id, first_id + count)
    ]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1] / "emosum_tui" / "builtin" / "data")
    parser.add_argument("--train", type=int, default=400)
    parser.add_argument("--validation", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20251122)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    write_jsonl(args.root / "train" / "Emotion_Summary.jsonl", make_rows(rng, 0, args.train))
    write_jsonl(args.root / "validation" / "Emotion_Summary.jsonl", make_rows(rng, args.train, args.validation))


if __name__ == "__main__":
    main()
