"""Generated customers who talk to the real assistant and know what they expect.

- `customers`: customers generated from a seed (what they say, and the booking or the refusal they expect);
- `driver`: one customer's conversation through the Rasa REST channel, answered prompt by prompt, then
  checked against PostgreSQL and the responses the assistant sent.
"""
