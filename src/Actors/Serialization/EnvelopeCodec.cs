using Google.Protobuf;
using CoFUsfl.Actors.Protocol;

namespace CoFUsfl.Actors;

/// <summary>Why an inbound envelope was refused.</summary>
public enum EnvelopeError
{
    /// <summary>Accepted.</summary>
    None,
    /// <summary>Not a parsable envelope.</summary>
    MalformedEnvelope,
    /// <summary>The envelope carries no checksum.</summary>
    MissingChecksum,
    /// <summary>The payload does not match its checksum (corrupted).</summary>
    ChecksumMismatch,
    /// <summary>No loaded message type has the payload's name.</summary>
    UnknownPayloadType,
    /// <summary>The payload does not parse as its type.</summary>
    MalformedPayload,
}

/// <summary>Builds, measures and checks <see cref="Envelope"/>s.</summary>
public static class EnvelopeCodec
{
    /// <summary>Protobuf size of the Envelope field 6 (payload) for a payload of <paramref name="payloadSize"/> bytes.</summary>
    private static int PayloadFieldSize(int payloadSize) => payloadSize == 0 ? 0 : 1 + ActorAddress.VarintSize((ulong)payloadSize) + payloadSize;

    /// <summary>
    /// Serialized size of the envelope carrying a payload of <paramref name="payloadSize"/> bytes, computed from the
    /// fields without building or copying anything. Equals <c>envelope.CalculateSize()</c>.
    /// </summary>
    public static int ComputeSize(string sender, string recipient, ulong messageId, ulong correlationId, string payloadType, int payloadSize) =>
        ComputeSize(ActorAddress.Utf8FieldSize(sender), ActorAddress.Utf8FieldSize(recipient), messageId, correlationId,
            ActorAddress.Utf8FieldSize(payloadType), payloadSize);

    internal static int ComputeSize(int senderField, int recipientField, ulong messageId, ulong correlationId, int typeField, int payloadSize) =>
        senderField + recipientField
        + (messageId == 0 ? 0 : 1 + ActorAddress.VarintSize(messageId))
        + (correlationId == 0 ? 0 : 1 + ActorAddress.VarintSize(correlationId))
        + typeField + PayloadFieldSize(payloadSize)
        + 5; // checksum: optional fixed32, tag + 4 bytes, always present

    /// <summary>Wraps a payload into an envelope with its checksum.</summary>
    public static Envelope Wrap(string sender, string recipient, ulong messageId, ulong correlationId, IMessage payload)
    {
        var bytes = payload.ToByteArray();
        return new Envelope
        {
            Sender = sender,
            Recipient = recipient,
            MessageId = messageId,
            CorrelationId = correlationId,
            PayloadType = payload.Descriptor.FullName,
            Payload = UnsafeByteOperations.UnsafeWrap(bytes),
            Checksum = Crc32C.Compute(bytes),
        };
    }

    /// <summary>Serializes an envelope for <paramref name="payload"/>; <paramref name="corrupt"/> flips bits of the payload after the checksum was taken (fault injection).</summary>
    internal static byte[] Encode(string sender, string recipient, ulong messageId, ulong correlationId, IMessage payload, Action<byte[]>? corrupt = null)
    {
        var payloadBytes = payload.ToByteArray();
        var crc = Crc32C.Compute(payloadBytes);
        corrupt?.Invoke(payloadBytes);
        var env = new Envelope
        {
            Sender = sender,
            Recipient = recipient,
            MessageId = messageId,
            CorrelationId = correlationId,
            PayloadType = payload.Descriptor.FullName,
            Payload = UnsafeByteOperations.UnsafeWrap(payloadBytes),
            Checksum = crc,
        };
        return env.ToByteArray();
    }

    /// <summary>Parses and checks an envelope, then its payload. Never throws for bad input: the error says what was wrong.</summary>
    public static EnvelopeError TryDecode(ReadOnlySpan<byte> bytes, MessageRegistry registry, out Envelope? envelope, out IMessage? payload, out string detail)
    {
        payload = null;
        envelope = null;
        try
        {
            envelope = Envelope.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            detail = e.Message;
            return EnvelopeError.MalformedEnvelope;
        }
        if (!envelope.HasChecksum)
        {
            detail = "envelope carries no checksum";
            return EnvelopeError.MissingChecksum;
        }
        var actual = Crc32C.Compute(envelope.Payload.Span);
        if (actual != envelope.Checksum)
        {
            detail = $"payload checksum {actual:x8} differs from envelope checksum {envelope.Checksum:x8}";
            return EnvelopeError.ChecksumMismatch;
        }
        if (!registry.TryGet(envelope.PayloadType, out var descriptor))
        {
            detail = $"no message type named '{envelope.PayloadType}' is loaded";
            return EnvelopeError.UnknownPayloadType;
        }
        try
        {
            payload = descriptor.Parser.ParseFrom(envelope.Payload.Span);
        }
        catch (InvalidProtocolBufferException e)
        {
            detail = $"payload of type {envelope.PayloadType}: {e.Message}";
            return EnvelopeError.MalformedPayload;
        }
        detail = "";
        return EnvelopeError.None;
    }

    /// <summary>Counter key of an error (the reasons reported by <see cref="TrafficCounters.Rejections"/>).</summary>
    public static string Reason(EnvelopeError e) => e switch
    {
        EnvelopeError.MalformedEnvelope => "malformed envelope",
        EnvelopeError.MissingChecksum => "missing checksum",
        EnvelopeError.ChecksumMismatch => "checksum mismatch",
        EnvelopeError.UnknownPayloadType => "unknown payload type",
        EnvelopeError.MalformedPayload => "malformed payload",
        _ => "none",
    };
}
